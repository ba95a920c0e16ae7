/**
 * The one way a protocol module produces effects: it writes, sends and replies through an
 * `Effects` (a builder of the next `Ready`), and never touches another module's state. The node
 * hands the same builder to every module and takes the Ready from it.
 */
import type { ClientReply, NodeId, OutMessage, Ready, Reply } from './types.js';
import type { Message } from './messages.js';
import type { StorageWrite } from './keys.js';

export interface Effects {
  /** The `seq` the Ready being built will carry: a write made now is durable once it is advanced. */
  readonly seq: number;
  write(w: StorageWrite): void;
  send(to: NodeId, msg: Message): void;
  reply(reqId: number, reply: ClientReply): void;
}

export class ReadyBuilder implements Effects {
  private taken = 0;
  private writes: StorageWrite[] = [];
  private messages: OutMessage[] = [];
  private replies: Reply[] = [];

  get seq(): number {
    return this.taken + 1;
  }

  write(w: StorageWrite): void {
    this.writes.push(w);
  }

  send(to: NodeId, msg: Message): void {
    this.messages.push({ to, msg });
  }

  reply(reqId: number, reply: ClientReply): void {
    this.replies.push({ reqId, reply });
  }

  hasReady(): boolean {
    return this.writes.length > 0 || this.messages.length > 0 || this.replies.length > 0;
  }

  /** Everything produced since the last take, as the next Ready in sequence. */
  take(): Ready {
    const rd: Ready = { seq: ++this.taken, writes: this.writes, messages: this.messages, replies: this.replies };
    this.writes = [];
    this.messages = [];
    this.replies = [];
    return rd;
  }
}
