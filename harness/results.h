/* slmbench results JSON: one versioned schema every command appends its section to.
 * The schema is documented in docs/results-schema.md. Written with cJSON, atomically. */
#ifndef SB_RESULTS_H
#define SB_RESULTS_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define SB_RESULTS_SCHEMA_VERSION 1

/* A new document: {"schema_version":1,"run":{time,command,git,version},"machine":null}.
 * argv is recorded as the command line. */
cJSON *sb_results_new(int argc, char **argv);
/* Loads a results file; refuses (returns NULL, err filled) another schema_version or a file
 * that is not a results document. */
cJSON *sb_results_load(const char *path, char *err, size_t errlen);
/* The section `name` of the document (an object), created when absent. */
cJSON *sb_results_section(cJSON *doc, const char *name);
/* Serializes doc and writes it atomically: temp file in the same directory, fsync, rename.
 * On failure returns -1, err says why, and any existing file at path is intact. */
int sb_results_write(const cJSON *doc, const char *path, char *err, size_t errlen);
/* The same for raw bytes. */
int sb_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* Reads a whole file (malloc'd, NUL-terminated); NULL + err on failure; files over max_bytes refused. */
char *sb_read_file(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen);
/* ISO-8601 UTC timestamp of now into buf. */
void sb_iso8601_now(char *buf, size_t len);

#endif
