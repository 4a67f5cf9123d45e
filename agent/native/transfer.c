/*
 * mlw_transfer: the small-object loop of a push or pull through a directory remote, in C on two
 * threads.
 *
 * It does exactly what the JavaScript paths do for each object (transfer.ts `fetch` and `push`, the
 * `fetch` and `copy` jobs of transfer-thread.ts): read the source store's object whole; for a fetch
 * (`verify`), hash it and go on only when its md5 is its name; write it to the target store — under
 * its final name into a staging folder that is renamed into place when the folder's group is done,
 * or under a temporary name then renamed into an existing folder — and, for a pull into a new
 * folder, to its workspace files (places), whose stats it records. A push's object missing from the
 * cache is ABSENT; objects of `limit` bytes or more are left to the caller's general path. What the
 * JavaScript paths spend on V8 per object (~half of a 15,000-object pull, bench/RESULTS.md) is
 * gone; the kernel's work is the same. Reflinks are the JavaScript path's (the caller probes).
 *
 * md5 comes from the OpenSSL inside the running Node (looked up by name at load, so a runtime
 * without it fails to load this module and the caller keeps its JavaScript path); errors are
 * worded as Node words them (libuv's names and messages), so a user sees the same text either way.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

enum { PENDING = 0, STORED = 1, LARGE = 2, CORRUPT = 3, FAILED = 4, ABSENT = 5 };
enum { MAX_THREADS = 8, PATH_BYTES = 4096 };

typedef struct {
  _Alignas(16) unsigned char opaque[256];
} Md5Context; /* room for OpenSSL's MD5_CTX (92 bytes), whose header a machine may lack */

static int (*md5_init)(Md5Context *);
static int (*md5_update)(Md5Context *, const void *, size_t);
static int (*md5_final)(unsigned char *, Md5Context *);

typedef struct {
  /* the job, copied out of JavaScript values before the threads start */
  char **ids;
  uint32_t count;
  char *source_root;
  char *target_root; /* the store the groups' folders are in */
  bool verify;       /* fetch: store only objects whose md5 is their name; copy (push): a missing source is ABSENT */
  double limit;
  char *tag;
  char **prefixes;
  uint32_t groups;
  int32_t *starts;
  uint8_t *staged;
  char **place_paths;
  int32_t *first;
  int32_t *next;
  double *place_stats;
  bool has_places;
  uint8_t *status;
  double *sizes;
  double *progress; /* [files, bytes] per thread */
  int32_t *stop;
  uint32_t threads;
  /* shared by the threads */
  atomic_uint next_group;
  atomic_uint next_temporary;
  char **messages; /* per item: the md5 of a corrupt object, or a failure's message */
  /* JavaScript side */
  napi_ref keep[12];
  uint32_t kept;
  napi_deferred deferred;
  napi_async_work work;
  char *strings[4];
} Job;

typedef struct {
  Job *job;
  uint32_t slot;
  unsigned char *buffer;
  size_t capacity;
} Worker;

/* ---- messages ---- */

static char *node_error(int error, const char *syscall, const char *path) {
  char *message = NULL;
  if (asprintf(&message, "%s: %s, %s '%s'", uv_err_name(-error), uv_strerror(-error), syscall, path) < 0) return NULL;
  return message;
}

static void fail(Job *job, uint32_t item, int error, const char *syscall, const char *path) {
  job->status[item] = FAILED;
  job->messages[item] = node_error(error, syscall, path);
}

/* ---- files ---- */

/* Formats a path into out; one that does not fit is ENAMETOOLONG, never a truncated name. */
static int format_path(char out[PATH_BYTES], const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int length = vsnprintf(out, PATH_BYTES, format, arguments);
  va_end(arguments);
  if (length < 0 || length >= PATH_BYTES) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

static int make_folders(char *path) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return -1;
  char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path) return -1;
  *slash = '\0';
  int made = make_folders(path);
  *slash = '/';
  if (made != 0) return -1;
  return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static int write_all(int fd, const unsigned char *bytes, size_t length) {
  for (size_t written = 0; written < length;) {
    ssize_t now = write(fd, bytes + written, length - written);
    if (now < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    written += (size_t)now;
  }
  return 0;
}

/* Writes a new file (O_EXCL) and, when stats is given, records its ino, mtimeMs and size there. A file left half-written is removed. */
static int write_new(const char *path, const unsigned char *bytes, size_t length, double *stats, const char **syscall) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    *syscall = "open";
    return -1;
  }
  struct stat info;
  int failed = write_all(fd, bytes, length) != 0 ? (*syscall = "write", -1) : 0;
  if (failed == 0 && stats != NULL && fstat(fd, &info) != 0) failed = (*syscall = "fstat", -1);
  int saved = errno;
  close(fd);
  if (failed != 0) {
    unlink(path);
    errno = saved;
    return -1;
  }
  if (stats != NULL) {
    stats[0] = (double)info.st_ino;
    /* as Node computes mtimeMs, so that the stat cache's later comparisons match exactly */
    stats[1] = (double)info.st_mtim.tv_sec * 1e3 + (double)info.st_mtim.tv_nsec / 1e6;
    stats[2] = (double)info.st_size;
  }
  return 0;
}

/* Writes under a temporary name beside target, then renames it into place. */
static int write_atomically(Job *job, const char *target, const unsigned char *bytes, size_t length, const char **syscall) {
  char temporary[PATH_BYTES];
  if (format_path(temporary, "%s.%sn%x.tmp", target, job->tag, atomic_fetch_add(&job->next_temporary, 1)) != 0) {
    *syscall = "open";
    return -1;
  }
  if (write_new(temporary, bytes, length, NULL, syscall) != 0) return -1;
  if (rename(temporary, target) != 0) {
    int saved = errno;
    unlink(temporary);
    errno = saved;
    *syscall = "rename";
    return -1;
  }
  return 0;
}

/* Renames a staging folder into place; if the folder appeared meanwhile, moves its files in one by one. */
static void settle_folder(const char *staging, char *folder) {
  if (rename(staging, folder) == 0) return;
  make_folders(folder);
  DIR *listing = opendir(staging);
  if (listing == NULL) return;
  char from[PATH_BYTES], to[PATH_BYTES];
  for (struct dirent *entry; (entry = readdir(listing)) != NULL;) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (format_path(from, "%s/%s", staging, entry->d_name) != 0 || format_path(to, "%s/%s", folder, entry->d_name) != 0) continue;
    if (rename(from, to) != 0) unlink(from);
  }
  closedir(listing);
  rmdir(staging);
}

/* Reads an open file whole into the worker's buffer; returns its length, or -1 once it reaches limit bytes, or -2 on a read error. */
static ssize_t read_whole(Worker *worker, int fd, double limit) {
  size_t filled = 0;
  for (;;) {
    if (filled == worker->capacity) {
      if ((double)filled >= limit) return -1;
      size_t larger = worker->capacity == 0 ? 64 << 10 : worker->capacity * 2;
      if ((double)larger > limit) larger = (size_t)limit;
      unsigned char *grown = realloc(worker->buffer, larger);
      if (grown == NULL) {
        errno = ENOMEM;
        return -2;
      }
      worker->buffer = grown;
      worker->capacity = larger;
    }
    ssize_t now = read(fd, worker->buffer + filled, worker->capacity - filled);
    if (now < 0 && errno == EINTR) continue;
    if (now < 0) return -2;
    if (now == 0) return (ssize_t)filled;
    filled += (size_t)now;
  }
}

static void md5_hex(const unsigned char *bytes, size_t length, char hex[33]) {
  static const char digits[] = "0123456789abcdef";
  Md5Context context;
  unsigned char digest[16];
  md5_init(&context);
  md5_update(&context, bytes, length);
  md5_final(digest, &context);
  for (int k = 0; k < 16; k++) {
    hex[2 * k] = digits[digest[k] >> 4];
    hex[2 * k + 1] = digits[digest[k] & 15];
  }
  hex[32] = '\0';
}

/* ---- one object ---- */

static void move_one(Worker *worker, uint32_t item, const char *into) {
  Job *job = worker->job;
  const char *id = job->ids[item];
  char path[PATH_BYTES];
  int fd = format_path(path, "%s/%.2s/%s", job->source_root, id, id + 2) == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0 && !job->verify && errno == ENOENT) {
    job->status[item] = ABSENT;
    return;
  }
  if (fd < 0) return fail(job, item, errno, "open", path);
  ssize_t length = read_whole(worker, fd, job->limit);
  int saved = errno;
  close(fd);
  if (length == -2) return fail(job, item, saved, "read", path);
  if (length == -1) {
    job->status[item] = LARGE;
    return;
  }
  const unsigned char *bytes = worker->buffer;
  char md5[33];
  if (job->verify) md5_hex(bytes, (size_t)length, md5);
  if (job->verify && strcmp(md5, id) != 0) {
    job->status[item] = CORRUPT;
    job->messages[item] = strdup(md5);
    return;
  }
  const char *syscall = "open";
  int named = into != NULL ? format_path(path, "%s/%s", into, id + 2) : format_path(path, "%s/%.2s/%s", job->target_root, id, id + 2);
  if (named != 0) return fail(job, item, errno, syscall, path);
  if ((into != NULL ? write_new(path, bytes, (size_t)length, NULL, &syscall) : write_atomically(job, path, bytes, (size_t)length, &syscall)) != 0)
    return fail(job, item, errno, syscall, path);
  if (job->has_places) {
    for (int32_t at = job->first[item]; at != -1; at = job->next[at]) {
      if (write_new(job->place_paths[at], bytes, (size_t)length, job->place_stats + 3 * (size_t)at, &syscall) != 0)
        return fail(job, item, errno, syscall, job->place_paths[at]);
    }
  }
  job->status[item] = STORED;
  job->sizes[item] = (double)length;
  job->progress[2 * worker->slot] += 1;
  job->progress[2 * worker->slot + 1] += (double)length;
}

static int stopped(Job *job) {
  return __atomic_load_n(job->stop, __ATOMIC_RELAXED) != 0;
}

/* Claims a folder's group at a time; a staged group's folder is settled even when stopped midway, as every file in it is complete. */
static void *run_worker(void *argument) {
  Worker *worker = argument;
  Job *job = worker->job;
  char folder[PATH_BYTES], staging[PATH_BYTES];
  for (uint32_t g = atomic_fetch_add(&job->next_group, 1); g < job->groups && !stopped(job); g = atomic_fetch_add(&job->next_group, 1)) {
    /* A staging folder that cannot be made (read-only store, a file in the way): each object's own write fails and is reported with its id, as in object-groups.ts. */
    const char *into = NULL;
    if (job->staged[g] && format_path(folder, "%s/%s", job->target_root, job->prefixes[g]) == 0 &&
        format_path(staging, "%s.%sg%x.tmp", folder, job->tag, atomic_fetch_add(&job->next_temporary, 1)) == 0 && make_folders(staging) == 0)
      into = staging;
    for (int32_t i = job->starts[g]; i < job->starts[g + 1] && !stopped(job); i++) move_one(worker, (uint32_t)i, into);
    if (into != NULL) settle_folder(into, folder);
  }
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  Worker workers[MAX_THREADS];
  pthread_t threads[MAX_THREADS];
  uint32_t started = 1;
  for (uint32_t slot = 0; slot < job->threads; slot++) {
    workers[slot] = (Worker){ .job = job, .slot = slot, .capacity = 64 << 10 };
    workers[slot].buffer = malloc(workers[slot].capacity);
    if (workers[slot].buffer == NULL) workers[slot].capacity = 0;
  }
  for (uint32_t slot = 1; slot < job->threads; slot++) {
    if (pthread_create(&threads[slot], NULL, run_worker, &workers[slot]) != 0) break;
    started++;
  }
  run_worker(&workers[0]);
  for (uint32_t slot = 1; slot < started; slot++) pthread_join(threads[slot], NULL);
  for (uint32_t slot = 0; slot < job->threads; slot++) free(workers[slot].buffer);
}

/* ---- JavaScript values ---- */

static void free_job(napi_env env, Job *job) {
  for (uint32_t k = 0; k < job->kept; k++) napi_delete_reference(env, job->keep[k]);
  for (int k = 0; k < 4; k++) free(job->strings[k]);
  if (job->messages != NULL)
    for (uint32_t i = 0; i < job->count; i++) free(job->messages[i]);
  free(job->messages);
  free(job->ids);
  free(job->prefixes);
  free(job->place_paths);
  free(job->source_root);
  free(job->target_root);
  free(job->tag);
  free(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value results;
  napi_create_array(env, &results);
  uint32_t length = 0;
  for (uint32_t i = 0; i < job->count; i++) {
    if (job->messages[i] == NULL) continue;
    napi_value pair, index, message;
    napi_create_array_with_length(env, 2, &pair);
    napi_create_uint32(env, i, &index);
    napi_create_string_utf8(env, job->messages[i], NAPI_AUTO_LENGTH, &message);
    napi_set_element(env, pair, 0, index);
    napi_set_element(env, pair, 1, message);
    napi_set_element(env, results, length++, pair);
  }
  if (status == napi_ok) napi_resolve_deferred(env, job->deferred, results);
  else {
    napi_value error, text;
    napi_create_string_utf8(env, "the native transfer did not run", NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, NULL, text, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free_job(env, job);
}

static int throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return -1;
}

static napi_value property(napi_env env, napi_value object, const char *name) {
  napi_value value = NULL;
  napi_get_named_property(env, object, name, &value);
  return value;
}

static char *string_of(napi_env env, napi_value value, size_t *length) {
  size_t size = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &size) != napi_ok) return NULL;
  char *text = malloc(size + 1);
  if (text == NULL) return NULL;
  napi_get_value_string_utf8(env, value, text, size + 1, &size);
  if (length != NULL) *length = size;
  return text;
}

/* A list of strings joined by NUL (as transfer-thread.ts packs them) split in place; `count` must match. */
static char **split_packed(char *joined, size_t length, uint32_t count) {
  char **parts = calloc(count == 0 ? 1 : count, sizeof *parts);
  if (parts == NULL) return NULL;
  uint32_t found = 0;
  char *start = joined;
  for (size_t at = 0; at <= length && count > 0; at++) {
    if (at < length && joined[at] != '\0') continue;
    if (found == count) break;
    parts[found++] = start;
    start = joined + at + 1;
  }
  if (found != count) {
    free(parts);
    return NULL;
  }
  return parts;
}

/* Points *data at a typed array property of the kind expected with at least `minimum` elements, kept alive until the job ends; -1 when there is none. */
static int typed(napi_env env, Job *job, napi_value object, const char *name, napi_typedarray_type expected, size_t minimum, void *data) {
  napi_value value = property(env, object, name);
  bool is_typed = false;
  if (value == NULL || napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return -1;
  napi_typedarray_type type;
  size_t length;
  if (napi_get_typedarray_info(env, value, &type, &length, (void **)data, NULL, NULL) != napi_ok || type != expected || length < minimum) return -1;
  if (job->kept == sizeof job->keep / sizeof job->keep[0]) return -1;
  napi_create_reference(env, value, 1, &job->keep[job->kept++]);
  return 0;
}

static double number_of(napi_env env, napi_value object, const char *name) {
  double number = -1;
  napi_get_value_double(env, property(env, object, name), &number);
  return number;
}

static char **packed_property(napi_env env, Job *job, napi_value object, const char *name, uint32_t count, int slot) {
  size_t length = 0;
  napi_value value = property(env, object, name);
  job->strings[slot] = value == NULL ? NULL : string_of(env, value, &length);
  return job->strings[slot] == NULL ? NULL : split_packed(job->strings[slot], length, count);
}

static int read_job(napi_env env, napi_value object, Job *job) {
  double count = number_of(env, object, "count");
  double groups = number_of(env, object, "groupCount");
  double threads = number_of(env, object, "threads");
  if (count < 0 || groups < 0 || threads < 1 || threads > MAX_THREADS) return throw_type(env, "count, groupCount and threads must be numbers in range");
  job->count = (uint32_t)count;
  job->groups = (uint32_t)groups;
  job->threads = (uint32_t)threads;
  job->limit = number_of(env, object, "limit");
  job->source_root = string_of(env, property(env, object, "sourceRoot"), NULL);
  job->target_root = string_of(env, property(env, object, "targetRoot"), NULL);
  napi_value verify = property(env, object, "verify");
  if (verify == NULL || napi_get_value_bool(env, verify, &job->verify) != napi_ok) return throw_type(env, "verify must be a boolean");
  job->tag = string_of(env, property(env, object, "tag"), NULL);
  job->ids = packed_property(env, job, object, "ids", job->count, 0);
  job->prefixes = packed_property(env, job, object, "prefixes", job->groups, 1);
  if (!job->source_root || !job->target_root || !job->tag || !job->ids || !job->prefixes || job->limit <= 0) return throw_type(env, "the job's roots, tag, ids, prefixes or limit are missing");
  for (uint32_t i = 0; i < job->count; i++)
    if (strlen(job->ids[i]) != 32) return throw_type(env, "every id must be 32 hex digits");
  if (typed(env, job, object, "starts", napi_int32_array, job->groups + 1, &job->starts) != 0 ||
      typed(env, job, object, "staged", napi_uint8_array, job->groups, &job->staged) != 0 ||
      typed(env, job, object, "status", napi_uint8_array, job->count, &job->status) != 0 ||
      typed(env, job, object, "sizes", napi_float64_array, job->count, &job->sizes) != 0 ||
      typed(env, job, object, "progress", napi_float64_array, 2 * job->threads, &job->progress) != 0 ||
      typed(env, job, object, "stop", napi_int32_array, 1, &job->stop) != 0)
    return throw_type(env, "starts, staged, status, sizes, progress or stop is missing or too short");
  if (job->groups > 0 && (uint32_t)job->starts[job->groups] > job->count) return throw_type(env, "starts runs past the ids");
  double placeCount = number_of(env, object, "placeCount");
  if (placeCount < 0) return 0;
  job->place_paths = packed_property(env, job, object, "placePaths", (uint32_t)placeCount, 2);
  if (job->place_paths == NULL || typed(env, job, object, "first", napi_int32_array, job->count, &job->first) != 0 ||
      typed(env, job, object, "next", napi_int32_array, (size_t)placeCount, &job->next) != 0 ||
      typed(env, job, object, "placeStats", napi_float64_array, 3 * (size_t)placeCount, &job->place_stats) != 0)
    return throw_type(env, "placePaths, first, next or placeStats is missing or too short");
  job->has_places = true;
  return 0;
}

/* move(job): a promise of [index, message] pairs for the corrupt (message: their md5) and failed items; job.status says what became of each. */
static napi_value move(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], promise, name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "move needs a job");
    return NULL;
  }
  Job *job = calloc(1, sizeof *job);
  if (job == NULL || read_job(env, argv[0], job) != 0 || (job->messages = calloc(job->count == 0 ? 1 : job->count, sizeof *job->messages)) == NULL) {
    if (job != NULL) free_job(env, job);
    return NULL;
  }
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "mlw_transfer.move", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static int find_md5(void) {
  md5_init = (int (*)(Md5Context *))dlsym(RTLD_DEFAULT, "MD5_Init");
  md5_update = (int (*)(Md5Context *, const void *, size_t))dlsym(RTLD_DEFAULT, "MD5_Update");
  md5_final = (int (*)(unsigned char *, Md5Context *))dlsym(RTLD_DEFAULT, "MD5_Final");
  return md5_init && md5_update && md5_final ? 0 : -1;
}

NAPI_MODULE_INIT() {
  if (find_md5() != 0) {
    napi_throw_error(env, NULL, "this runtime's OpenSSL offers no MD5_Init");
    return NULL;
  }
  napi_value function;
  napi_create_function(env, "move", NAPI_AUTO_LENGTH, move, NULL, &function);
  napi_set_named_property(env, exports, "move", function);
  return exports;
}
