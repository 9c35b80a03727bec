/* slmbench GGUF reader and writer (public API).
 *
 * GGUF file layout (little-endian; v2/v3 use 64-bit counts, v1 32-bit):
 *   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv × { string key | u32 value_type | value }
 *       string = u64 length + bytes (no NUL); array = u32 elem_type + u64 count + elements
 *   n_tensors × { string name | u32 n_dims | n_dims × u64 ne | u32 ggml_type | u64 offset }
 *   padding to `general.alignment` (default 32) | tensor data (offsets relative to its start)
 *
 * Files come from strangers: every count, length, dimension, offset and size is validated against
 * the bytes actually present, with overflow-checked arithmetic, before anything is allocated or
 * read. Errors carry a code, the file name, the byte offset and a message; nothing aborts.
 * Depends on nothing else of slmbench.
 *
 * Versions: 2 and 3, and GGUF v1 on purpose (same layout with 32-bit counts, string and array
 * lengths and tensor dimensions; sb_gguf_version() reports 1). Only little-endian files: a
 * byte-swapped version field (big-endian file) is refused with SB_GGUF_E_VERSION naming it.
 * Tensors need 1..4 dimensions, each > 0, ne[0] a multiple of the type's block size; names are
 * 1..63 bytes of UTF-8. Keys are non-empty, unique UTF-8 without NUL. Arrays of arrays are
 * refused. The limits below (SB_GGUF_MAX_*) bound every count and string; the reader's own
 * allocations are linear in the file size and capped at 16 bytes per file byte + 1 MiB.
 *
 * Running out of bytes: a fixed-size field cut short is SB_GGUF_E_TRUNCATED (so is any file of
 * fewer than 24 bytes, 16 for v1); a declared count, length or offset pointing past the end
 * gets the code of its row (COUNT, STRING, ARRAY, BOUNDS), its message saying how many bytes
 * were left. Duplicate keys and tensor names are found after the whole table is read (sorted
 * index, no hash flooding) and the earliest repeat in file order is reported.
 *
 * A handle is immutable once open: concurrent reads from several threads are safe. Pointers it
 * hands out (keys, names, strings, tensor data) live until sb_gguf_close. A file truncated by
 * someone else while mapped can still raise SIGBUS on access, as with any mmap.
 */
#ifndef SB_GGUF_H
#define SB_GGUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sb_gguf_status {
    SB_GGUF_OK = 0,
    SB_GGUF_E_IO,          /* open/stat/mmap/write failed (errno text in the message)     */
    SB_GGUF_E_TRUNCATED,   /* G1  */
    SB_GGUF_E_MAGIC,       /* G2  */
    SB_GGUF_E_VERSION,     /* G3  (byte-swapped files named as such)                      */
    SB_GGUF_E_COUNT,       /* G4  */
    SB_GGUF_E_STRING,      /* G5  */
    SB_GGUF_E_KEY,         /* G6  */
    SB_GGUF_E_VALUE_TYPE,  /* G7  */
    SB_GGUF_E_ARRAY,       /* G8  */
    SB_GGUF_E_ALIGNMENT,   /* G9  */
    SB_GGUF_E_NAME,        /* G10 */
    SB_GGUF_E_DIMS,        /* G11 */
    SB_GGUF_E_SHAPE,       /* G12 */
    SB_GGUF_E_TENSOR_TYPE, /* G13 */
    SB_GGUF_E_BOUNDS,      /* G14 */
    SB_GGUF_E_NOMEM,       /* allocation failed or over the cap                            */
    SB_GGUF_E_NOT_FOUND,   /* getter: key or tensor absent                                 */
    SB_GGUF_E_WRONG_TYPE,  /* getter: key present with another type                        */
    SB_GGUF_E_ARG,         /* API misuse (NULL, index out of range, writer misuse)         */
    SB_GGUF_STATUS_COUNT
} sb_gguf_status;

typedef struct sb_gguf_error {
    int code;            /* sb_gguf_status                                                  */
    uint64_t offset;     /* byte offset in the file where the problem is                    */
    char file[256];
    char msg[256];
} sb_gguf_error;

const char *sb_gguf_status_name(int code);  /* "truncated", "bad magic", ...               */
/* "FILE: at byte OFFSET: MESSAGE" into buf. */
void sb_gguf_error_format(const sb_gguf_error *e, char *buf, size_t len);

typedef enum sb_gguf_vtype {
    SB_GGUF_UINT8 = 0, SB_GGUF_INT8 = 1, SB_GGUF_UINT16 = 2, SB_GGUF_INT16 = 3,
    SB_GGUF_UINT32 = 4, SB_GGUF_INT32 = 5, SB_GGUF_FLOAT32 = 6, SB_GGUF_BOOL = 7,
    SB_GGUF_STRING = 8, SB_GGUF_ARRAY = 9, SB_GGUF_UINT64 = 10, SB_GGUF_INT64 = 11,
    SB_GGUF_FLOAT64 = 12, SB_GGUF_VTYPE_COUNT
} sb_gguf_vtype;

const char *sb_gguf_vtype_name(sb_gguf_vtype t);

/* ggml tensor types known to the reader (all of ggml's, so any real file lists). */
const char *sb_gguf_type_name(uint32_t ggml_type);      /* NULL when unknown               */
/* Elements per block and bytes per block; 0 when unknown. */
uint32_t sb_gguf_type_block_elems(uint32_t ggml_type);
uint32_t sb_gguf_type_block_bytes(uint32_t ggml_type);
/* One past the largest type id in the table (ids below it may still be unknown: 4, 5). */
uint32_t sb_gguf_type_count(void);
/* Bytes of a tensor of this type and shape (ne[0..n_dims)), overflow-checked. Returns 0, or
 * SB_GGUF_E_TENSOR_TYPE (unknown type), SB_GGUF_E_DIMS (n_dims not 1..4) or SB_GGUF_E_SHAPE
 * (a dimension <= 0, element count or byte size overflow, ne[0] not a multiple of the block). */
int sb_gguf_tensor_nbytes(uint32_t ggml_type, uint32_t n_dims, const int64_t *ne, uint64_t *out);

/* Limits the reader enforces (each refusal has its BAD_INPUTS code). */
#define SB_GGUF_DEFAULT_ALIGNMENT 32u
#define SB_GGUF_MAX_ALIGNMENT (1u << 20)   /* G9: larger general.alignment is refused          */
#define SB_GGUF_MAX_NAME 63u               /* G10: tensor name bytes (ggml's GGML_MAX_NAME - 1) */
#define SB_GGUF_MAX_KEY 65535u             /* G5: metadata key bytes                            */
#define SB_GGUF_MAX_STRING (1u << 28)      /* G5: a string value or array element (256 MiB)     */
#define SB_GGUF_MAX_KV (1u << 20)          /* G4: metadata entries                              */
#define SB_GGUF_MAX_TENSORS (1u << 20)     /* G4: tensors                                       */

typedef struct sb_gguf_tensor {
    const char *name;
    uint32_t type;        /* ggml type id (same values as kernels' sb_type)                */
    uint32_t n_dims;
    int64_t ne[4];        /* ne[0] = row length (fastest), unused dims = 1                 */
    uint64_t offset;      /* from the start of the data section                            */
    uint64_t size;        /* bytes                                                         */
    const void *data;     /* points into the mapping / buffer                              */
} sb_gguf_tensor;

typedef struct sb_gguf sb_gguf;

/* Open from a path: mmap'd read-only (MAP_PRIVATE), tensor data never copied. The whole
 * header, metadata and tensor table are validated before it returns. Returns SB_GGUF_OK with
 * *out set, or a status with *out = NULL and err (may be NULL) filled: code, path, byte
 * offset, message. Not a regular file / cannot open / cannot map → SB_GGUF_E_IO. */
int sb_gguf_open(const char *path, sb_gguf **out, sb_gguf_error *err);
/* Open from memory, with the same validation. The bytes are not copied: data must outlive the
 * handle. `name` is used in errors and returned by sb_gguf_path. */
int sb_gguf_open_memory(const void *data, size_t size, const char *name, sb_gguf **out,
                        sb_gguf_error *err);
/* Frees the handle and unmaps the file; NULL is a no-op. */
void sb_gguf_close(sb_gguf *g);

uint32_t sb_gguf_version(const sb_gguf *g);
const char *sb_gguf_path(const sb_gguf *g);
uint64_t sb_gguf_file_size(const sb_gguf *g);
uint64_t sb_gguf_alignment(const sb_gguf *g);
/* Byte offset of the data section (the end of the tables rounded up to the alignment; with no
 * tensors it may lie past the end of the file). */
uint64_t sb_gguf_data_offset(const sb_gguf *g);
const void *sb_gguf_base(const sb_gguf *g);       /* first byte of the file (mapping/buffer) */
/* Map every page of the data section now (MADV_POPULATE_READ; where the kernel lacks it, a
 * read-ahead hint), so that the first pass over the weights does not stop on page faults: a 1B
 * model's first token took ~110 ms more than the next one. No-op for in-memory files. */
void sb_gguf_prefault(const sb_gguf *g);

/* ---- metadata ---- */
int64_t sb_gguf_n_kv(const sb_gguf *g);
int64_t sb_gguf_find_key(const sb_gguf *g, const char *key);   /* index or -1            */
const char *sb_gguf_kv_key(const sb_gguf *g, int64_t i);
sb_gguf_vtype sb_gguf_kv_type(const sb_gguf *g, int64_t i);
/* For arrays: element type and count (0 for non-arrays). */
sb_gguf_vtype sb_gguf_kv_arr_type(const sb_gguf *g, int64_t i);
uint64_t sb_gguf_kv_arr_n(const sb_gguf *g, int64_t i);
/* Byte offset of entry i (its key's length field) in the file, for messages. */
uint64_t sb_gguf_kv_offset(const sb_gguf *g, int64_t i);

/* Index-based value access (for listing every entry, e.g. `slmbench inspect`).
 * sb_gguf_kv_num: element j of a numeric/bool array, or the scalar itself (j = 0), decoded:
 * .type is the element type; integers fill .i and .u (same bits) and .f; floats fill .f; bools
 * 0/1. Returns 0, SB_GGUF_E_ARG (bad index) or SB_GGUF_E_WRONG_TYPE (string or string array). */
typedef struct sb_gguf_num {
    sb_gguf_vtype type;
    int64_t i;
    uint64_t u;
    double f;
} sb_gguf_num;
int sb_gguf_kv_num(const sb_gguf *g, int64_t i, uint64_t j, sb_gguf_num *out);
/* String value of entry i / element j of string-array entry i (pointer into the file, length).
 * Returns 0 or SB_GGUF_E_ARG (wrong type or index). */
int sb_gguf_kv_str(const sb_gguf *g, int64_t i, const char **s, size_t *len);
int sb_gguf_kv_arr_str(const sb_gguf *g, int64_t i, uint64_t j, const char **s, size_t *len);
/* Raw little-endian bytes of a numeric/bool scalar or array entry; NULL for strings. */
const void *sb_gguf_kv_data(const sb_gguf *g, int64_t i);

/* Typed getters. Missing key → SB_GGUF_E_NOT_FOUND; another type → SB_GGUF_E_WRONG_TYPE (the
 * integer getters accept any integer type whose value fits the destination; the float getter
 * accepts f32 and f64). err may be NULL; when given it names the key. */
int sb_gguf_get_u32(const sb_gguf *g, const char *key, uint32_t *out, sb_gguf_error *err);
int sb_gguf_get_i64(const sb_gguf *g, const char *key, int64_t *out, sb_gguf_error *err);
int sb_gguf_get_u64(const sb_gguf *g, const char *key, uint64_t *out, sb_gguf_error *err);
int sb_gguf_get_f32(const sb_gguf *g, const char *key, float *out, sb_gguf_error *err);
int sb_gguf_get_f64(const sb_gguf *g, const char *key, double *out, sb_gguf_error *err);
int sb_gguf_get_bool(const sb_gguf *g, const char *key, int *out, sb_gguf_error *err);
/* String value: pointer into the file (NOT NUL-terminated) and its length. */
int sb_gguf_get_str(const sb_gguf *g, const char *key, const char **s, size_t *len,
                    sb_gguf_error *err);
/* Numeric/bool array: element type, count and a pointer to the raw little-endian elements in
 * the file (may be unaligned: read with memcpy). String arrays: use sb_gguf_get_arr_str. */
int sb_gguf_get_arr(const sb_gguf *g, const char *key, sb_gguf_vtype *elem_type, uint64_t *n,
                    const void **data, sb_gguf_error *err);
/* Number of strings of a string array, and string i (pointer into the file, length). */
int sb_gguf_get_arr_str_n(const sb_gguf *g, const char *key, uint64_t *n, sb_gguf_error *err);
int sb_gguf_get_arr_str(const sb_gguf *g, const char *key, uint64_t i, const char **s,
                        size_t *len, sb_gguf_error *err);

/* ---- tensors ----
 * In file order. Every tensor's data is validated: offset aligned, [offset, offset + size)
 * inside the file, no two tensors overlapping; data = base + data_offset + offset. */
int64_t sb_gguf_n_tensors(const sb_gguf *g);
const sb_gguf_tensor *sb_gguf_tensor_at(const sb_gguf *g, int64_t i);       /* NULL if out of range */
const sb_gguf_tensor *sb_gguf_find_tensor(const sb_gguf *g, const char *name); /* or NULL (O(log n)) */

/* ---- writer (GGUF v3) ----
 * Collects metadata (in insertion order; a replaced key keeps its place) and tensors, then
 * writes: header, metadata, tensor table, padding, each tensor's data padded to the alignment
 * (general.alignment when set — a u32 power of two <= SB_GGUF_MAX_ALIGNMENT — else 32).
 * Keys must be non-empty UTF-8 without NUL (else SB_GGUF_E_KEY); the files it writes pass the
 * reader's checks. */
typedef struct sb_gguf_writer sb_gguf_writer;
sb_gguf_writer *sb_gguf_writer_new(void);
void sb_gguf_writer_free(sb_gguf_writer *w);
/* Setters copy key and value. Setting a key twice replaces it. Return 0 or an sb_gguf_status. */
int sb_gguf_set_u8(sb_gguf_writer *w, const char *key, uint8_t v);
int sb_gguf_set_i8(sb_gguf_writer *w, const char *key, int8_t v);
int sb_gguf_set_u16(sb_gguf_writer *w, const char *key, uint16_t v);
int sb_gguf_set_i16(sb_gguf_writer *w, const char *key, int16_t v);
int sb_gguf_set_u32(sb_gguf_writer *w, const char *key, uint32_t v);
int sb_gguf_set_i32(sb_gguf_writer *w, const char *key, int32_t v);
int sb_gguf_set_u64(sb_gguf_writer *w, const char *key, uint64_t v);
int sb_gguf_set_i64(sb_gguf_writer *w, const char *key, int64_t v);
int sb_gguf_set_f32(sb_gguf_writer *w, const char *key, float v);
int sb_gguf_set_f64(sb_gguf_writer *w, const char *key, double v);
int sb_gguf_set_bool(sb_gguf_writer *w, const char *key, int v);
int sb_gguf_set_str(sb_gguf_writer *w, const char *key, const char *v);
/* Array of n numeric/bool elements of elem_type, raw little-endian bytes copied. */
int sb_gguf_set_arr(sb_gguf_writer *w, const char *key, sb_gguf_vtype elem_type,
                    const void *data, uint64_t n);
int sb_gguf_set_arr_str(sb_gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* The same with explicit byte lengths (strings need not be NUL-terminated nor free of NUL);
 * lens NULL means strlen. */
int sb_gguf_set_strn(sb_gguf_writer *w, const char *key, const char *v, size_t len);
int sb_gguf_set_arr_strn(sb_gguf_writer *w, const char *key, const char *const *strs, const size_t *lens,
                         uint64_t n);
/* Copies metadata entry i of an opened file (any type, byte-exact values) into the writer,
 * e.g. to carry a model's metadata over into a quantized copy. */
int sb_gguf_set_from(sb_gguf_writer *w, const sb_gguf *g, int64_t i);
/* Adds a tensor. data is referenced, not copied: it must stay valid until the write.
 * size must equal the size the type and shape imply (sb_gguf_tensor_nbytes). Errors:
 * SB_GGUF_E_NAME (empty, over 63 bytes, not UTF-8, duplicate), SB_GGUF_E_TENSOR_TYPE,
 * SB_GGUF_E_DIMS, SB_GGUF_E_SHAPE (bad shape or size mismatch), SB_GGUF_E_ARG (NULL data). */
int sb_gguf_add_tensor(sb_gguf_writer *w, const char *name, uint32_t ggml_type, uint32_t n_dims,
                       const int64_t *ne, const void *data, uint64_t size);
/* Writes atomically (temp file in the same directory, fsync, rename). On failure the old file
 * is intact and err says why. */
int sb_gguf_writer_write(sb_gguf_writer *w, const char *path, sb_gguf_error *err);
/* Writes into a malloc'd buffer (caller frees). */
int sb_gguf_writer_to_memory(sb_gguf_writer *w, void **buf, size_t *size, sb_gguf_error *err);

#ifdef __cplusplus
}
#endif
#endif
