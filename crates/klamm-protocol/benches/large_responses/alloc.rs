//! A global allocator that counts what a piece of code allocates, so the benchmark can put
//! each codec's allocations per decode and encode side by side.
//!
//! Counting is off except inside [`measure`]; while off, each allocation costs one relaxed
//! atomic load on top of the system allocator, the same for every codec being timed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting calls and bytes while [`measure`] runs.
pub struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);
static FREED_BYTES: AtomicUsize = AtomicUsize::new(0);

fn allocated(size: usize) {
    if COUNTING.load(Relaxed) {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED_BYTES.fetch_add(size, Relaxed);
    }
}

fn freed(size: usize) {
    if COUNTING.load(Relaxed) {
        FREED_BYTES.fetch_add(size, Relaxed);
    }
}

// SAFETY: every method passes its arguments unchanged to `System` and returns what `System`
// returns, so the `GlobalAlloc` contract holds exactly as it does for `System`. The extra work
// is updating atomics, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation counts as a new allocation of the new size, freeing the old one.
        allocated(new_size);
        freed(layout.size());
        // SAFETY: `ptr` came from `System` with `layout`; the caller vouches for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What a piece of code allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocations {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub count: usize,
    /// Bytes those calls asked for.
    pub bytes: usize,
    /// Of those, bytes still allocated when the code returned (what its result holds on to).
    pub retained: usize,
}

/// Runs `f` and counts what it allocates. The result is returned, not dropped, so the drop
/// is not counted and `retained` says what the result keeps. Not reentrant.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Allocations) {
    ALLOCATIONS.store(0, Relaxed);
    ALLOCATED_BYTES.store(0, Relaxed);
    FREED_BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let value = std::hint::black_box(f());
    COUNTING.store(false, Relaxed);
    let bytes = ALLOCATED_BYTES.load(Relaxed);
    let allocations = Allocations {
        count: ALLOCATIONS.load(Relaxed),
        bytes,
        retained: bytes.saturating_sub(FREED_BYTES.load(Relaxed)),
    };
    (value, allocations)
}

/// Bytes of the allocation [`settle`] makes: well above the small sizes an allocator keeps on
/// fast free lists (glibc merges those lists at the first request of 1 KiB or more).
const SETTLE_BYTES: usize = 64 * 1024;

/// Lets the allocator finish what earlier frees left it, outside any timed region.
///
/// Dropping a decoded value of thousands of small allocations leaves glibc's fast free lists
/// full, and glibc merges them at the next large request, whoever makes it. Without this, the
/// next contender in an interleaved round would pay for the previous one's drop.
pub fn settle() {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(SETTLE_BYTES)));
}
