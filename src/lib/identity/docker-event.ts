/** One line of Docker\'s event stream (`GET /events`, Docker Engine API "Monitor events"), read as a container event. */

/** The raw event as Docker sends it. */
interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly time?: number;
  readonly timeNano?: number;
}

export interface ContainerEvent {
  /** Full 64-hex container id. */
  readonly id: string;
  readonly action: string;
  /** Unix seconds of the event (0 when absent). */
  readonly sec: number;
  /** Tells two events of the same second apart (a replay from `since` repeats that second). */
  readonly key: string;
  /** `exitCode` attribute of a `die` event. */
  readonly exitCode: string | undefined;
}

/** Actions that change nothing the container list shows (exec sessions, attach, top, …). */
const IGNORED = /^(exec_|attach$|top$|resize$|export$|commit$|copy$|archive-path$|extract-to-dir$)/;

/** The container event on one line of the stream; undefined for malformed lines and events of other types. */
export function parseContainerEvent(line: string): ContainerEvent | undefined {
  let e: DockerEvent;
  try {
    e = JSON.parse(line) as DockerEvent;
  } catch {
    return undefined;
  }
  const id = e.Actor?.ID;
  const action = e.Action ?? '';
  if (e.Type !== 'container' || typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) return undefined;
  return { id, action, sec: typeof e.time === 'number' ? e.time : 0, key: `${e.timeNano ?? ''}|${action}|${id}`, exitCode: e.Actor?.Attributes?.exitCode };
}

/** Whether an action can change what the container list shows (state, status, name, …). */
export const changesListing = (action: string): boolean => !IGNORED.test(action);
