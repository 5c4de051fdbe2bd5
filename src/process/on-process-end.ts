// Child servers (anvil, embedded PostgreSQL) must never outlive this process.

const stops = new Set<() => void>();
let hooked = false;

/**
 * Runs `stop` (synchronous: send the child a signal) when this process ends: on 'exit'
 * (normal end or process.exit(), also from the application's own signal handler), and on
 * SIGINT/SIGTERM when nobody else listens for them, in which case the signal is raised
 * again so the default behaviour stays. An application with its own handler owns the
 * shutdown; 'exit' still catches what it leaves. Returns the unregistration.
 */
export function onProcessEnd(stop: () => void): () => void {
  stops.add(stop);
  if (!hooked) {
    hooked = true;
    process.on('exit', stopAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const onSignal = (): void => {
        if (process.listenerCount(signal) > 1) return;
        stopAll();
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
  return () => void stops.delete(stop);
}

function stopAll(): void {
  for (const stop of stops) {
    try {
      stop();
    } catch {
      // already gone
    }
  }
  stops.clear();
}
