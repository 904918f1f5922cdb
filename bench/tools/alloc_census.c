// alloc_census: which call sites hold a process's heap. An LD_PRELOAD library for finding
// where a supervisor's memory per container goes (bench/RESULTS.md), not for production.
//
//   cc -O2 -shared -fPIC -o alloc_census.so bench/tools/alloc_census.c -ldl
//   LD_PRELOAD=$PWD/alloc_census.so corrald ...      (every process it starts inherits it)
//   kill -USR1 PID                                   writes /tmp/alloc-census.PID
//
// Every live allocation is kept with the stack that made it (the first kStackDepth return
// addresses above malloc/operator new). The census lists the stacks by live bytes, as
// "bytes count  binary+offset ..." lines; addr2line -f -C -e BINARY OFFSET names them.
// Allocations are counted while the census runs, so take it when the process is quiet.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void __libc_free(void*);
extern void* __libc_memalign(size_t, size_t);

enum { kStackDepth = 6, kSkip = 2, kSlots = 1 << 22, kSites = 1 << 16 };

struct Site {
  void* stack[kStackDepth];
  size_t bytes, count;
};
struct Slot {
  void* ptr;
  size_t size;
  uint32_t site;
};

static struct Slot* slots;  // open addressing by pointer; ptr 0 = empty, 1 = deleted
static struct Site* sites;
static uint32_t site_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;
static volatile sig_atomic_t census_wanted;

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

static uint32_t site_of(void** stack) {
  for (uint32_t i = 0; i < site_count; ++i)  // few sites: a linear scan is fine for a tool
    if (memcmp(sites[i].stack, stack, sizeof(void*) * kStackDepth) == 0) return i;
  if (site_count == kSites) return kSites - 1;
  memcpy(sites[site_count].stack, stack, sizeof(void*) * kStackDepth);
  return site_count++;
}

static void write_census(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/alloc-census.%d", (int)getpid());
  FILE* out = fopen(path, "w");
  if (!out) return;
  for (uint32_t i = 0; i < site_count; ++i) {
    if (sites[i].bytes == 0) continue;
    fprintf(out, "%zu %zu", sites[i].bytes, sites[i].count);
    for (int d = 0; d < kStackDepth; ++d) {
      Dl_info info;
      if (sites[i].stack[d] && dladdr(sites[i].stack[d], &info) && info.dli_fname)
        fprintf(out, " %s+0x%lx", info.dli_fname,
                (unsigned long)((char*)sites[i].stack[d] - (char*)info.dli_fbase - 1));
    }
    fputc('\n', out);
  }
  fclose(out);
}

static void remember(void* ptr, size_t size) {
  if (!ptr || !slots || inside) return;
  inside = 1;
  void* frames[kStackDepth + kSkip];
  int n = backtrace(frames, kStackDepth + kSkip);
  void* stack[kStackDepth] = {0};
  for (int i = kSkip; i < n; ++i) stack[i - kSkip] = frames[i];
  pthread_mutex_lock(&lock);
  if (census_wanted) {  // with `inside` set: its own allocations are neither kept nor looked up
    census_wanted = 0;
    write_census();
  }
  uint32_t site = site_of(stack);
  for (uint64_t h = mix((uintptr_t)ptr);; ++h) {
    struct Slot* slot = &slots[h & (kSlots - 1)];
    if (slot->ptr == 0 || slot->ptr == (void*)1) {
      slot->ptr = ptr;
      slot->size = size;
      slot->site = site;
      break;
    }
  }
  sites[site].bytes += size;
  sites[site].count += 1;
  pthread_mutex_unlock(&lock);
  inside = 0;
}

static void forget(void* ptr) {
  if (!ptr || !slots || inside) return;
  pthread_mutex_lock(&lock);
  for (uint64_t h = mix((uintptr_t)ptr);; ++h) {
    struct Slot* slot = &slots[h & (kSlots - 1)];
    if (slot->ptr == 0) break;
    if (slot->ptr == ptr) {
      sites[slot->site].bytes -= slot->size;
      sites[slot->site].count -= 1;
      slot->ptr = (void*)1;
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

static void on_usr1(int signal) {
  (void)signal;
  census_wanted = 1;  // written by the next allocation, outside the handler
}

__attribute__((constructor)) static void start(void) {
  inside = 1;
  void* warm[2];
  backtrace(warm, 2);  // loads libgcc's unwinder now, not inside malloc
  slots = mmap(0, sizeof(struct Slot) * kSlots, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  sites = mmap(0, sizeof(struct Site) * kSites, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (slots == MAP_FAILED || sites == MAP_FAILED) slots = 0;
  struct sigaction action = {0};
  action.sa_handler = on_usr1;
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, 0);
  inside = 0;
}

void* malloc(size_t size) {
  void* p = __libc_malloc(size);
  remember(p, size);
  return p;
}
void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  remember(p, n * size);
  return p;
}
void* realloc(void* old, size_t size) {
  forget(old);
  void* p = __libc_realloc(old, size);
  remember(p, size);
  return p;
}
void free(void* p) {
  forget(p);
  __libc_free(p);
}
int posix_memalign(void** out, size_t align, size_t size) {
  void* p = __libc_memalign(align, size);
  if (!p) return 12;
  remember(p, size);
  *out = p;
  return 0;
}
void* aligned_alloc(size_t align, size_t size) {
  void* p = __libc_memalign(align, size);
  remember(p, size);
  return p;
}
