/* PAPI wrapper: start/stop a named event set; events that do not work on this machine are
 * reported as unavailable instead of failing (VMs often expose no hardware counters).
 * Counts cover the calling thread. */
#ifndef SB_COUNTERS_H
#define SB_COUNTERS_H

#define SB_COUNTERS_MAX 8

typedef struct sb_counters {
    int n;                                   /* events asked for                          */
    const char *names[SB_COUNTERS_MAX];
    int available[SB_COUNTERS_MAX];          /* 1: counted; 0: unavailable here           */
    long long values[SB_COUNTERS_MAX];       /* after stop; -1 when unavailable           */
    int eventset;                            /* PAPI event set (PAPI_NULL when none)      */
    int running;
} sb_counters;

/* Default events: cycles, instructions, L1/LLC misses (hardware), then software events that
 * work on VMs (task clock, page faults). */
extern const char *const sb_counters_default_events[];
extern const int sb_counters_default_n;

/* Prepares and starts the events (n <= SB_COUNTERS_MAX). Returns the number of events that are
 * available (0 is not an error: nothing will be counted). Never fails hard. */
int sb_counters_start(sb_counters *c, const char *const *names, int n);
/* Stops and fills c->values. */
void sb_counters_stop(sb_counters *c);

#endif
