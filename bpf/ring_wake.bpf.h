/* When a record wakes the ring buffer's reader; shared by every kernel object that writes a ring.
 * The reader also polls on a short timeout, so records below the threshold still arrive. */
#ifndef L7_BPF_RING_WAKE_BPF_H
#define L7_BPF_RING_WAKE_BPF_H

/* Forces a wakeup only for the record that takes the unread backlog across a multiple of
 * threshold bytes. Forcing for every record while the backlog stayed above the threshold queued
 * an irq_work (a self-IPI: an APIC write, and a VM exit under virtualization) per record for as
 * long as the reader was catching up, which cost a saturated nginx 3.7% of the machine
 * (tests/bench/overhead.py --perf). Multiples rather than one crossing, so that two CPUs adding
 * at once can skip a crossing but not every later one. threshold is never 0 (ring_wakeup_bytes). */
static __always_inline __u64 ring_wake_flag(void *ring, __u32 size, __u32 threshold)
{
	__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);

	return avail / threshold != (avail + size) / threshold ? BPF_RB_FORCE_WAKEUP
	                                                       : BPF_RB_NO_WAKEUP;
}

#endif
