/**
 * `docker events`: what this endpoint did and saw (container create, start, die, stop, destroy, exec_create/start/die;
 * image pull and delete; volume create, destroy, mount and unmount), kept for a while so `--since` and `--until` in the past have answers.
 * Not state: an endpoint restarted starts a new history, as dockerd does.
 */
export interface DockerEvent {
  readonly Type: 'container' | 'image' | 'network' | 'volume';
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
  readonly scope?: string;
  readonly time?: number;
  readonly timeNano?: number;
  /** The pre-1.22 fields the CLI still prints from. */
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
}

const KEEP = 1000;

type Listener = (e: DockerEvent) => void;

export class EventLog {
  private readonly recent: DockerEvent[] = [];
  private readonly subscribers = new Set<{ listener: Listener; untilNano?: number; end: () => void }>();

  get listeners(): number {
    return this.subscribers.size;
  }

  emit(event: Omit<DockerEvent, 'time' | 'timeNano' | 'scope'>): void {
    const nowMs = Date.now();
    const full: DockerEvent = {
      ...event,
      scope: 'local',
      time: Math.floor(nowMs / 1000),
      timeNano: nowMs * 1e6,
      ...(event.Type === 'container' ? { status: event.Action, id: event.Actor.ID, from: event.Actor.Attributes.image } : {}),
    };
    this.recent.push(full);
    if (this.recent.length > KEEP) this.recent.shift();
    for (const s of [...this.subscribers]) {
      if (s.untilNano !== undefined && (full.timeNano ?? 0) > s.untilNano) {
        s.end();
        continue;
      }
      s.listener(full);
    }
  }

  /**
   * Past events since `since` (seconds), then live ones until `until` (seconds) passes; `end` is
   * called then. Returns the unsubscribe function.
   */
  subscribe(window: { since?: number; until?: number }, listener: Listener, end: () => void): () => void {
    const untilNano = window.until !== undefined ? window.until * 1e9 : undefined;
    if (window.since !== undefined) {
      for (const e of this.recent) if ((e.time ?? 0) >= window.since && (untilNano === undefined || (e.timeNano ?? 0) <= untilNano)) listener(e);
    }
    let timer: NodeJS.Timeout | undefined;
    const entry = {
      listener,
      untilNano,
      end: () => {
        stop();
        end();
      },
    };
    const stop = () => {
      if (timer) clearTimeout(timer);
      this.subscribers.delete(entry);
    };
    if (untilNano !== undefined) {
      const left = untilNano / 1e6 - Date.now();
      if (left <= 0) {
        end();
        return stop;
      }
      timer = setTimeout(entry.end, left);
      timer.unref();
    }
    this.subscribers.add(entry);
    return stop;
  }

  close(): void {
    for (const s of [...this.subscribers]) s.end();
  }
}
