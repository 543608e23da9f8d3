// Live updates by polling with a backoff: fast right after a change or an
// action, slower while nothing moves, paused while the tab is hidden. One
// poller per page, so a session's load on the server is bounded.

const FAST = 1500, SLOW = 15000;

/** poll calls tick() repeatedly; tick resolves true when something changed. Returns {stop, hurry}. */
export function poll(tick) {
  let delay = FAST, timer = null, stopped = false;
  async function run() {
    timer = null;
    if (stopped) return;
    if (document.hidden) { schedule(); return; }
    let changed = false;
    try { changed = await tick(); } catch { changed = false; }
    delay = changed ? FAST : Math.min(SLOW, Math.round(delay * 1.5));
    schedule();
  }
  function schedule() { if (!stopped && !timer) timer = setTimeout(run, delay); }
  schedule();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    hurry() { delay = FAST; clearTimeout(timer); timer = null; schedule(); },
  };
}
