/* Giving freed heap back to the system. glibc keeps what free() returns inside the heap
 * for reuse, and gives back only the top of it: a burst of short-lived allocations (a
 * config load's parse tree, a large /metrics or /status rendering) leaves the process's
 * resident size at its peak, in holes between the allocations that stay. Called after
 * such a burst, mem_trim() hands those holes back (malloc_trim), so the resident size
 * follows what is really in use.
 *
 * mem_init() is called once at the start of a long-running process: allocations of
 * MEM_MMAP_MIN bytes or more are then always served by their own mapping, returned whole
 * when freed, instead of glibc raising that bound after the first large free and placing
 * the next large buffers inside the heap. */
#ifndef LIB_MEMTRIM_H
#define LIB_MEMTRIM_H

#define MEM_MMAP_MIN (128 * 1024)

void mem_init(void);
/* Give free heap memory back to the system; what names the burst, for the debug log. */
void mem_trim(const char *what);

#endif
