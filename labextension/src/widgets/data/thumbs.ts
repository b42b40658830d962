/**
 * Thumbnails sent by the kernel as PNG bytes in a message's buffers: turned into object
 * URLs (revoked when the view goes away), and a grid that asks for a class's first page
 * only when it scrolls into view.
 */
import type { ThumbItem } from '../shared/contract';
import { h } from '../shared/dom';

/** Object URLs made by one view, revoked together. */
export class ImageUrls {
  private urls: string[] = [];

  /** An object URL for one PNG buffer (a DataView or ArrayBuffer from the comm). */
  add(buffer: ArrayBuffer | ArrayBufferView): string {
    const bytes =
      buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const url = URL.createObjectURL(new Blob([bytes.slice()], { type: 'image/png' }));
    this.urls.push(url);
    return url;
  }

  revokeAll(): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }
}

/** Pair each item with its buffer: items with an error have none. */
export function pairBuffers<T extends { error: string | null }>(
  items: T[],
  buffers: ReadonlyArray<ArrayBuffer | ArrayBufferView>
): Array<{ item: T; buffer: ArrayBuffer | ArrayBufferView | null }> {
  let next = 0;
  return items.map(item => ({ item, buffer: item.error === null ? (buffers[next++] ?? null) : null }));
}

/** A figure for one thumbnail: the image (alt = its label and path) or the reason it cannot be shown. */
export function thumbFigure(item: ThumbItem, url: string | null, label: string): HTMLElement {
  const figure = h('figure', 'tw-thumb');
  const where = item.path ?? `#${item.index}`;
  if (url !== null) {
    const img = h('img', 'tw-thumb-img', undefined, { src: url, alt: `${label}: ${where}`, title: where });
    figure.append(img);
  } else {
    figure.classList.add('tw-thumb-bad');
    figure.append(h('div', 'tw-thumb-error', 'cannot be shown', { title: `${where}: ${item.error ?? ''}` }));
  }
  figure.append(h('figcaption', 'tw-thumb-caption', item.path ? baseName(item.path) : `#${item.index}`));
  return figure;
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Call `onVisible(target)` once per target the first time it scrolls into view. */
export function whenVisible(root: HTMLElement, onVisible: (target: Element) => void): (target: Element) => void {
  if (typeof IntersectionObserver === 'undefined') return onVisible; // no observer (old hosts): load at once
  const observer = new IntersectionObserver(
    entries => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        onVisible(entry.target);
      }
    },
    { rootMargin: '100px' }
  );
  root.addEventListener('tw-dispose', () => observer.disconnect());
  return target => observer.observe(target);
}
