// Live updates. The server's stream (GET /v1/events/stream, server-sent
// events) says when an event arrives or a delivery changes; the page then
// refetches what it shows. If the stream is refused (too many open, or an
// older server), the page polls instead, with a backoff: fast after a
// change, slower while nothing moves, paused while the tab is hidden.

const FAST = 1500, SLOW = 15000, MIN_GAP = 1000;

/**
 * watch calls refresh() when something may have changed; refresh resolves
 * true if what it shows changed. eventID, if given, also watches that
 * event's deliveries. Returns {stop, hurry}.
 */
export function watch(refresh, eventID) {
  let stopped = false, es = null, poller = null, pending = null, last = 0;
  // At most one refetch a second, however fast the stream talks: under a
  // burst of payments the page stays cheap for the server and the browser.
  const kick = () => {
    if (pending || stopped) return;
    const wait = Math.max(150, MIN_GAP - (Date.now() - last));
    pending = setTimeout(() => { pending = null; last = Date.now(); refresh().catch(() => {}); }, wait);
  };
  if (typeof EventSource === "function") {
    es = new EventSource("/v1/events/stream" + (eventID ? "?event_id=" + encodeURIComponent(eventID) : ""));
    es.addEventListener("open", kick);
    es.addEventListener("event", kick);
    es.addEventListener("delivery", kick);
    es.addEventListener("reset", kick); // a burst: the stream says "reload" instead of listing each event
    es.addEventListener("error", () => {
      if (es && es.readyState === EventSource.CLOSED && !stopped) { es = null; poller = poll(refresh); }
    });
  } else poller = poll(refresh);
  return {
    stop() { stopped = true; if (es) es.close(); if (poller) poller.stop(); clearTimeout(pending); },
    hurry() { if (poller) poller.hurry(); else kick(); },
  };
}

/** poll calls tick() repeatedly; tick resolves true when something changed. */
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
