/* PAPI wrapper. See harness/counters.h. */
#include "harness/counters.h"

#include <papi.h>
#include <pthread.h>
#include <string.h>

const char *const sb_counters_default_events[] = {"PAPI_TOT_CYC", "PAPI_TOT_INS", "PAPI_L1_DCM", "PAPI_L3_TCM",
                                                  "perf::TASK-CLOCK", "perf::PAGE-FAULTS"};
const int sb_counters_default_n = 6;

static pthread_once_t papi_once = PTHREAD_ONCE_INIT;
static int papi_ok;

static void papi_init(void)
{
    papi_ok = PAPI_library_init(PAPI_VER_CURRENT) == PAPI_VER_CURRENT;
}

int sb_counters_start(sb_counters *c, const char *const *names, int n)
{
    memset(c, 0, sizeof *c);
    c->eventset = PAPI_NULL;
    if (n > SB_COUNTERS_MAX) n = SB_COUNTERS_MAX;
    c->n = n;
    for (int i = 0; i < n; i++) { c->names[i] = names[i]; c->values[i] = -1; }
    pthread_once(&papi_once, papi_init);
    if (!papi_ok || PAPI_create_eventset(&c->eventset) != PAPI_OK) { c->eventset = PAPI_NULL; return 0; }
    int added = 0;
    for (int i = 0; i < n; i++) {
        int code;
        if (PAPI_event_name_to_code(names[i], &code) != PAPI_OK) continue;
        /* Hardware and software events may live in different PAPI components; an event set
         * holds one component's events, so an event that does not fit is reported unavailable. */
        if (PAPI_add_event(c->eventset, code) == PAPI_OK) { c->available[i] = 1; added++; }
    }
    if (added && PAPI_start(c->eventset) == PAPI_OK) c->running = 1;
    else for (int i = 0; i < n; i++) c->available[i] = 0;
    return c->running ? added : 0;
}

void sb_counters_stop(sb_counters *c)
{
    long long v[SB_COUNTERS_MAX] = {0};
    if (c->running && PAPI_stop(c->eventset, v) == PAPI_OK) {
        int k = 0;
        for (int i = 0; i < c->n; i++) c->values[i] = c->available[i] ? v[k++] : -1;
    }
    c->running = 0;
    if (c->eventset != PAPI_NULL) {
        PAPI_cleanup_eventset(c->eventset);
        PAPI_destroy_eventset(&c->eventset);
        c->eventset = PAPI_NULL;
    }
}
