/*
 * afl_shm_coverage.c - the coverage runtime for programs the harness fuzzes
 * (harness/PROTOCOL.md, "Fuzzing your implementation with coverage").
 *
 * Link it into a program compiled with clang's
 * -fsanitize-coverage=trace-pc-guard (or rustc's sancov pass with
 * -sanitizer-coverage-trace-pc-guard). Every instrumented edge then counts its
 * hits in the harness's map: System V shared memory named by the environment
 * variable __AFL_SHM_ID, AFL_MAP_SIZE bytes long (AFL++'s convention, so the
 * harness treats this runtime and afl-clang-fast builds alike).
 *
 * Comparison feedback: built with -fsanitize-coverage=trace-cmp too, every
 * integer comparison marks a slot of a second map that follows the edge map
 * in the same segment (SFRAME_COVERAGE_CMP_SIZE bytes; AFL++ builds never
 * touch it): the slot of (call site, number of differing bits), as
 * libFuzzer's value profile does, so an input that gets one bit closer to
 * passing a comparison is new coverage. Call sites are taken relative to the
 * executable's start, so a restarted process marks the same slots.
 *
 * Comparison operands (input-to-state hints): with SFRAME_COVERAGE_CMPLOG=N,
 * N entries after the comparison map log the operands of comparisons against
 * a constant that failed: a u32 count (entries written so far, the harness
 * zeroes it before an input) padded to 16 bytes, then entries of (u64
 * constant, u64 value, u64 width in bytes), the newest N kept. The harness's
 * mutator puts the constant where the value was in the input, as AFL++'s
 * cmplog does, which no counter can tell a fuzzer.
 *
 * Rules of this file:
 * - Without __AFL_SHM_ID (or when the segment cannot be attached) the
 *   counters go to a private array: the program runs as if uninstrumented.
 * - Guards are numbered from 1 in the order modules initialise, so a program
 *   gives the same edge the same slot every run; slot 0 is never written.
 *   More edges than slots wrap around (collisions cost precision, never
 *   correctness).
 * - Counters saturate at 255 instead of wrapping to 0, which would hide a hit.
 * - Nothing here allocates, prints or calls back into instrumented code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/shm.h>

#define DEFAULT_MAP_SIZE 65536u

static uint8_t private_map[DEFAULT_MAP_SIZE];
static uint8_t *map = private_map;
static uint32_t map_size = DEFAULT_MAP_SIZE;
static uint32_t next_guard = 1;
static int attached;
static uint8_t *cmp_map;
static uint32_t cmp_size;
static volatile uint32_t *cmplog_count;
static uint64_t *cmplog;
static uint32_t cmplog_size;
extern char __executable_start;

static void attach(void)
{
    const char *id = getenv("__AFL_SHM_ID");
    const char *size = getenv("AFL_MAP_SIZE");
    attached = 1;
    if (id == NULL || *id == '\0')
        return;
    void *shared = shmat(atoi(id), NULL, 0);
    if (shared == (void *)-1)
        return;
    map = shared;
    map_size = DEFAULT_MAP_SIZE;
    if (size != NULL) {
        long n = strtol(size, NULL, 10);
        if (n >= 2 && n <= (1L << 24))
            map_size = (uint32_t)n;
    }
    const char *cmp = getenv("SFRAME_COVERAGE_CMP_SIZE");
    long n = cmp != NULL ? strtol(cmp, NULL, 10) : 0;
    if (n >= 64 && n <= (1L << 24)) {
        cmp_map = map + map_size;
        cmp_size = (uint32_t)n;
        const char *log = getenv("SFRAME_COVERAGE_CMPLOG");
        long entries = log != NULL ? strtol(log, NULL, 10) : 0;
        if (entries > 0 && entries <= 65536) {
            cmplog_count = (volatile uint32_t *)(cmp_map + cmp_size);
            cmplog = (uint64_t *)(cmp_map + cmp_size + 16);
            cmplog_size = (uint32_t)entries;
        }
    }
}

void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
    if (!attached)
        attach();
    if (start == stop || *start != 0)
        return; /* this module was numbered already */
    for (uint32_t *guard = start; guard < stop; guard++) {
        *guard = next_guard;
        next_guard = next_guard + 1 < map_size ? next_guard + 1 : 1;
    }
}

void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
    uint8_t *counter = &map[*guard];
    if (*counter != 255)
        (*counter)++;
}

static void cmp_mark(uintptr_t pc, uint64_t a, uint64_t b)
{
    if (cmp_map == NULL)
        return;
    uintptr_t site = pc - (uintptr_t)&__executable_start;
    cmp_map[(site * 65u + (uintptr_t)__builtin_popcountll(a ^ b)) % cmp_size] = 1;
}

static void cmp_log(uint64_t constant, uint64_t value, uint64_t width)
{
    if (cmplog == NULL || constant == value)
        return;
    uint32_t at = (*cmplog_count)++ % cmplog_size;
    cmplog[3 * at] = constant;
    cmplog[3 * at + 1] = value;
    cmplog[3 * at + 2] = width;
}

#define CMP_HOOK(name, type)                                                  \
    void name(type a, type b)                                                 \
    {                                                                         \
        cmp_mark((uintptr_t)__builtin_return_address(0), a, b);               \
    }
#define CONST_CMP_HOOK(name, type)                                            \
    void name(type constant, type value)                                      \
    {                                                                         \
        cmp_mark((uintptr_t)__builtin_return_address(0), constant, value);    \
        cmp_log(constant, value, sizeof(type));                               \
    }
CMP_HOOK(__sanitizer_cov_trace_cmp1, uint8_t)
CMP_HOOK(__sanitizer_cov_trace_cmp2, uint16_t)
CMP_HOOK(__sanitizer_cov_trace_cmp4, uint32_t)
CMP_HOOK(__sanitizer_cov_trace_cmp8, uint64_t)
CONST_CMP_HOOK(__sanitizer_cov_trace_const_cmp1, uint8_t)
CONST_CMP_HOOK(__sanitizer_cov_trace_const_cmp2, uint16_t)
CONST_CMP_HOOK(__sanitizer_cov_trace_const_cmp4, uint32_t)
CONST_CMP_HOOK(__sanitizer_cov_trace_const_cmp8, uint64_t)

void __sanitizer_cov_trace_switch(uint64_t value, uint64_t *cases)
{
    /* cases[0]: how many, cases[1]: their width in bits, then the values */
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    for (uint64_t i = 0; i < cases[0]; i++)
        cmp_mark(pc + i, value, cases[2 + i]);
}
