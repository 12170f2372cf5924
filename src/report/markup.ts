/**
 * Text made safe for markup, the same way for the JUnit XML and the HTML report:
 * the characters that end a tag, an attribute or an entity become numeric
 * character references, and control characters (which XML 1.0 forbids even
 * escaped, and a page would show as nothing) become U+FFFD. Pure.
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g;

/**
 * Escapes text for element content and quoted attributes in XML and HTML.
 *
 * @example
 * ```ts
 * escapeMarkup(`a<b "c"`); // "a&#60;b &#34;c&#34;"
 * escapeMarkup("bell\u0007"); // "bell\ufffd"
 * ```
 */
export function escapeMarkup(value: unknown): string {
  return String(value)
    .replace(CONTROL, "\ufffd")
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
