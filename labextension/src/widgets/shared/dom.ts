/** DOM helpers shared by the widget views. Text goes in with textContent only. */

/**
 * The part of the anywidget model API the views use. Traits and custom messages come
 * from the kernel unchecked: `get` and the handlers' arguments are `unknown` until a view
 * narrows them (see `asMessage`).
 */
export interface WidgetModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: unknown): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  off(event?: string | null, cb?: ((...args: unknown[]) => void) | null): void;
}

/**
 * A custom message from the kernel: `msg` when it is an object with a string `type`, else
 * null. Past that check it is trusted to be one of `T` (the kernel's messages are the
 * contract in ./contract.ts, generated from the Python side); each view still reads its
 * fields defensively.
 */
export function asMessage<T extends { type: string }>(msg: unknown): T | null {
  if (typeof msg !== 'object' || msg === null || !('type' in msg) || typeof msg.type !== 'string') return null;
  return msg as T;
}

/** An element with a class, text (as textContent) and attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
  attrs?: Record<string, string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}
