use super::*;

/// A stand-in for a closed span: whether it waits for others, and a count of its releases.
struct Item {
    waits: bool,
    released: Arc<AtomicU64>,
}

impl Handoff for Item {
    fn waits(&self) -> bool {
        self.waits
    }
    fn release(&mut self) {
        self.released.fetch_add(1, Ordering::Relaxed);
    }
}

fn item(released: &Arc<AtomicU64>) -> Item {
    Item { waits: false, released: released.clone() }
}

/// Counters of a queue of `size` spans holding `queued`.
fn queue(size: usize, queued: usize) -> Arc<ExportStats> {
    let stats = Arc::new(ExportStats::default());
    stats.pretend_queue(size, queued);
    stats
}

#[test]
fn past_its_capacity_a_span_comes_back_while_the_queue_has_room_and_is_dropped_once_it_is_full() {
    let released = Arc::new(AtomicU64::new(0));
    let stats = queue(10_000, 0);
    // Not started: nothing drains the buffers, as when the finisher is behind.
    let pipeline = Pipeline::new(10_000, Duration::from_secs(5), std::slice::from_ref(&stats));
    let cap = capacity(10_000);
    for i in 0..cap {
        assert!(pipeline.hand_off(item(&released)).is_none(), "span {i} is buffered");
    }
    assert!(pipeline.hand_off(item(&released)).is_some(), "past the capacity, the span comes back");
    assert_eq!(stats.dropped(), 0, "given back, not dropped");
    // Other threads share the one capacity: theirs come back too.
    let (p, r) = (pipeline.clone(), released.clone());
    let back = std::thread::spawn(move || p.hand_off(item(&r)).is_some()).join().expect("thread");
    assert!(back, "the capacity is the pipeline's, not the thread's");
    // The queue is full (a hung exporter): past the capacity spans are dropped and counted, here.
    stats.pretend_queue(10_000, 10_000);
    assert!(pipeline.hand_off(item(&released)).is_none(), "dropped, not given back");
    assert_eq!((stats.dropped(), released.load(Ordering::Relaxed)), (1, 1));
    // At shutdown what is still buffered is counted dropped (it was handed off before) and released.
    let _ = pipeline.shut_down(Duration::from_millis(10));
    assert_eq!(stats.dropped(), cap as u64 + 1);
    assert_eq!(released.load(Ordering::Relaxed), cap as u64 + 1);
    assert_eq!(pipeline.held.load(Ordering::Relaxed), 0, "nothing held after shutdown");
    // Afterwards spans are discarded uncounted.
    assert!(pipeline.hand_off(item(&released)).is_none());
    assert_eq!(stats.dropped(), cap as u64 + 1);
}

#[test]
fn a_run_waiting_for_children_may_use_twice_the_capacity_then_comes_back() {
    let released = Arc::new(AtomicU64::new(0));
    let stats = queue(800, 0);
    let pipeline = Pipeline::new(800, Duration::from_secs(5), std::slice::from_ref(&stats));
    let cap = capacity(800);
    for i in 0..cap {
        assert!(pipeline.hand_off(item(&released)).is_none(), "span {i} is buffered");
    }
    let run = || Item { waits: true, released: released.clone() };
    for i in 0..cap {
        assert!(pipeline.hand_off(run()).is_none(), "run {i} waits in the buffer");
    }
    // Past twice the capacity a waiting run comes back, finished where it closed with the roll-up so far.
    assert!(pipeline.hand_off(run()).is_some(), "the run comes back");
    assert_eq!(stats.dropped(), 0, "given back, not dropped");
    let _ = pipeline.shut_down(Duration::from_millis(10));
}

#[test]
fn the_finisher_gives_back_what_it_finished_and_what_idle_buffers_reserved() {
    let stats = queue(1_000, 0);
    let pipeline = Pipeline::new(1_000, Duration::from_millis(10), std::slice::from_ref(&stats));
    let finished = Arc::new(AtomicU64::new(0));
    let seen = finished.clone();
    assert!(pipeline.start(move |_item: Item| {
        seen.fetch_add(1, Ordering::Relaxed);
        true
    }));
    let released = Arc::new(AtomicU64::new(0));
    for _ in 0..3 * capacity(1_000) {
        if let Some(item) = pipeline.hand_off(item(&released)) {
            drop(item);
            finished.fetch_add(1, Ordering::Relaxed);
        }
    }
    pipeline.drain(Duration::from_secs(5)).expect("drains");
    // One more round returns the idle buffer's unused credit.
    pipeline.drain(Duration::from_secs(5)).expect("drains");
    assert_eq!(finished.load(Ordering::Relaxed), 3 * capacity(1_000) as u64);
    assert_eq!(pipeline.held.load(Ordering::Relaxed), 0, "nothing held once drained");
    let _ = pipeline.shut_down(Duration::from_secs(1));
}

/// A span of a run tree: a child counts in its run's `pending` until finished; a run waits for it.
struct Node {
    run: bool,
    pending: Arc<AtomicU64>,
}

impl Handoff for Node {
    fn waits(&self) -> bool {
        self.run && self.pending.load(Ordering::Acquire) > 0
    }
    fn release(&mut self) {
        if !self.run {
            self.pending.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Run trees whose children close on other threads than the run, through a pipeline of `workers`:
/// (runs finished while a child was still pending, spans finished, finishing threads).
fn run_trees(workers: usize, end: impl FnOnce(&Pipeline<Node>)) -> (u64, u64, usize) {
    const TREES: u64 = 40;
    const CHILD_THREADS: u64 = 4;
    const CHILDREN: u64 = 25;
    let stats = queue(100_000, 0);
    let pipeline = Pipeline::with_workers(100_000, Duration::from_millis(50), &[stats], workers);
    let early = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let (e, f, t) = (early.clone(), finished.clone(), threads.clone());
    assert!(pipeline.start(move |mut node: Node| {
        if node.run && node.pending.load(Ordering::Acquire) > 0 {
            e.fetch_add(1, Ordering::Relaxed);
        }
        t.lock().expect("threads").insert(std::thread::current().id());
        node.release();
        f.fetch_add(1, Ordering::Relaxed);
        true
    }));
    for _ in 0..TREES {
        let pending = Arc::new(AtomicU64::new(0));
        let children: Vec<_> = (0..CHILD_THREADS)
            .map(|_| {
                let (p, pending) = (pipeline.clone(), pending.clone());
                std::thread::spawn(move || {
                    for _ in 0..CHILDREN {
                        pending.fetch_add(1, Ordering::Relaxed);
                        assert!(p.hand_off(Node { run: false, pending: pending.clone() }).is_none());
                    }
                })
            })
            .collect();
        for child in children {
            child.join().expect("child thread");
        }
        // The run closes after all its children, on this thread.
        assert!(pipeline.hand_off(Node { run: true, pending }).is_none());
    }
    end(&pipeline);
    let n = threads.lock().expect("threads").len();
    assert_eq!(finished.load(Ordering::Relaxed), TREES * (CHILD_THREADS * CHILDREN + 1), "every span finished");
    let _ = pipeline.shut_down(Duration::from_secs(5));
    (early.load(Ordering::Relaxed), finished.load(Ordering::Relaxed), n)
}

#[test]
fn with_several_workers_a_drain_finishes_every_run_after_its_children() {
    let (early, _, threads) = run_trees(4, |p| p.drain(Duration::from_secs(30)).expect("drains"));
    assert_eq!(early, 0, "no run finished before a child that closed before it");
    assert!(threads > 1, "the spans of several threads were finished by several workers");
}

#[test]
fn with_several_workers_a_shutdown_finishes_every_run_after_its_children() {
    let (early, _, _) = run_trees(3, |p| p.shut_down(Duration::from_secs(30)).expect("shuts down"));
    assert_eq!(early, 0, "no run finished before a child that closed before it");
}

#[test]
fn buffers_go_to_the_workers_in_turn_and_shutdown_joins_them_all() {
    let stats = queue(10_000, 0);
    let pipeline = Pipeline::with_workers(10_000, Duration::from_secs(5), std::slice::from_ref(&stats), 3);
    let threads = Arc::new(Mutex::new(Vec::new()));
    let t = threads.clone();
    assert!(pipeline.start(move |_item: Item| {
        t.lock().expect("threads").push(std::thread::current().id());
        true
    }));
    let released = Arc::new(AtomicU64::new(0));
    for _ in 0..3 {
        let (p, r) = (pipeline.clone(), released.clone());
        std::thread::spawn(move || assert!(p.hand_off(item(&r)).is_none())).join().expect("thread");
    }
    pipeline.drain(Duration::from_secs(30)).expect("drains");
    let mut ids = threads.lock().expect("threads").clone();
    assert_eq!(ids.len(), 3);
    ids.sort_by_key(|id| format!("{id:?}"));
    ids.dedup();
    assert_eq!(ids.len(), 3, "three threads' buffers, three workers");
    pipeline.shut_down(Duration::from_secs(30)).expect("shuts down");
    assert!(pipeline.handles.lock().expect("handles").is_empty(), "every worker joined");
    assert!(pipeline.workers.iter().all(|w| !w.alive.load(Ordering::Acquire)), "no worker left running");
}

#[test]
fn the_capacity_is_an_eighth_of_the_queue_at_least_one() {
    for (queue, cap) in [(65_536, 8_192), (10_000, 1_250), (2_048, 256), (100, 12), (7, 1), (1, 1), (0, 1)] {
        assert_eq!(capacity(queue), cap, "queue {queue}");
    }
}

#[test]
fn the_poll_interval_is_a_tenth_of_the_delay_within_bounds() {
    for (delay_ms, poll_ms) in [(0, 1), (5, 1), (10, 1), (200, 20), (5_000, 100), (60_000, 100)] {
        assert_eq!(poll_interval(Duration::from_millis(delay_ms)), Duration::from_millis(poll_ms), "{delay_ms} ms");
    }
}
