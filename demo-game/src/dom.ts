/**
 * A tiny DOM helper for the panel and the overlays.
 *
 * @module
 */

/**
 * Creates an element with attributes and, optionally, text.
 *
 * @example el('button', { type: 'button', id: 'play' }, 'Play')
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
