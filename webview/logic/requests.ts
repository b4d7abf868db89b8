// Request/response correlation for the webview (pure): numbered requests, answers matched by inReplyTo.
import type { DoneMessage, ErrorMessage, HostMessage, TileMessage } from '../../src/shared/protocol';

type Answer = TileMessage | DoneMessage;

export class Requests {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (m: Answer) => void; reject: (e: Error) => void }>();

  /** A new request id and the promise of its answer (rejected on an `error` reply). */
  open(): { requestId: number; answer: Promise<Answer> } {
    const requestId = this.next++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(requestId, { resolve, reject }));
    return { requestId, answer };
  }

  /** Routes a host message; true when it answered a pending request. */
  settle(m: HostMessage): boolean {
    if (m.type !== 'tile' && m.type !== 'done' && !(m.type === 'error' && m.inReplyTo !== undefined)) return false;
    const id = (m as TileMessage | DoneMessage | ErrorMessage).inReplyTo!;
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m as Answer);
    return true;
  }

  /** Rejects everything still waiting (the report changed, or the host went away). */
  cancelAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
