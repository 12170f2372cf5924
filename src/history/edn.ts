/**
 * A reader for the part of EDN that histories use (https://github.com/edn-format/edn):
 * maps, vectors, lists, sets, keywords, symbols, strings, characters, integers (with `N`),
 * floats (with `M`), ratios, `nil`, booleans, `;` comments, `#_` discards, and tagged
 * literals, read as the form they tag (`#jepsen.history.Op{...}` is its map). Pure: text in,
 * values out, each top-level form with the line it starts on.
 *
 * @module
 */

import { HistoryError } from "./errors.ts";
import { EdnSymbol, Keyword, type Value, ValueMap, ValueSet } from "./value.ts";

/** One top-level form and the line it starts on (from 1). */
export interface EdnForm {
  value: Value;
  line: number;
}

const NEWLINE = 10;
const CLOSERS: Readonly<Record<string, string>> = { "(": ")", "[": "]", "{": "}" };
/** The characters that end a token: whitespace, commas, brackets, quotes, comments. */
const DELIMITERS = new Uint8Array(128);
for (const char of ' \t\n\r\f\v,()[]{}";') DELIMITERS[char.charCodeAt(0)] = 1;
const CHARACTER_NAMES: Readonly<Record<string, string>> = {
  newline: "\n",
  space: " ",
  tab: "\t",
  return: "\r",
  backspace: "\b",
  formfeed: "\f",
};
const STRING_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  n: "\n",
  t: "\t",
  r: "\r",
  b: "\b",
  f: "\f",
};

/** What `readForm` returns at a closing bracket or the end instead of a value. */
const END = Symbol("end");

/**
 * Reads every top-level form of `text`. A syntax error names the file and line.
 *
 * @example
 * ```ts
 * readEdn('{:process 0, :type :invoke}\n{:process 0, :type :ok}')[1].line; // 2
 * ```
 */
export function readEdn(text: string, options: { file?: string } = {}): EdnForm[] {
  return [...ednForms(text, options)];
}

/**
 * The top-level forms of `text`, one at a time: a long history's forms can each be
 * turned into an op and let go, instead of all being held at once.
 *
 * @example
 * ```ts
 * for (const form of ednForms(text, { file })) console.log(form.line);
 * ```
 */
export function* ednForms(text: string, options: { file?: string } = {}): Generator<EdnForm> {
  const reader = new EdnReader(text, options.file);
  for (;;) {
    reader.skipSpace();
    const line = reader.line;
    const value = reader.readForm(null);
    if (value === END) return;
    yield { value, line };
  }
}

/** A cursor over the text: its position and line. */
class EdnReader {
  pos = 0;
  line = 1;
  readonly keywords = new Map<string, Keyword>();

  constructor(readonly text: string, readonly file: string | undefined) {}

  fail(message: string, line = this.line): never {
    throw new HistoryError(message, { file: this.file, line });
  }

  /** Skips whitespace, commas and comments, counting lines. */
  skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const code = text.charCodeAt(this.pos);
      if (code === NEWLINE) this.line++;
      if (code === 59 /* ; */) {
        const end = text.indexOf("\n", this.pos);
        this.pos = end < 0 ? text.length : end;
        continue;
      }
      if (code !== 44 /* , */ && !(code <= 32 || code === 0xa0 || code === 0xfeff)) return;
      this.pos++;
    }
  }

  /** The next form; END at the closing bracket `closer` (consumed) or at the end of the text. */
  readForm(closer: string | null): Value | typeof END {
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) {
        if (closer !== null) this.fail(`expected "${closer}" before the end of the text`);
        return END;
      }
      const char = this.text[this.pos];
      if (char === closer) {
        this.pos++;
        return END;
      }
      if (char === "#" && this.text[this.pos + 1] === "_") {
        this.pos += 2;
        if (this.readForm(closer) === END) this.fail("expected a form after #_");
        continue;
      }
      return this.readValue(char);
    }
  }

  readValue(char: string): Value {
    switch (char) {
      case "{":
      case "[":
      case "(": {
        const line = this.line;
        this.pos++;
        const items = this.readUntil(CLOSERS[char]);
        return char === "{" ? this.mapOf(items, line) : items;
      }
      case ")":
      case "]":
      case "}":
        return this.fail(`unexpected "${char}"`);
      case '"':
        return this.readString();
      case "#":
        return this.readDispatch();
      case "\\":
        return this.readCharacter();
      case ":":
        return this.readKeyword();
    }
    return this.readAtom(this.readToken());
  }

  readKeyword(): Keyword {
    this.pos++;
    let name = this.readToken();
    if (name.charCodeAt(0) === 58 /* : */) name = name.slice(1);
    if (name === "") this.fail(`expected a keyword's name after ":"`);
    // A history names the same few keywords on every line: one object each.
    let keyword = this.keywords.get(name);
    if (!keyword) this.keywords.set(name, keyword = new Keyword(name));
    return keyword;
  }

  readUntil(closer: string): Value[] {
    const items: Value[] = [];
    for (;;) {
      const item = this.readForm(closer);
      if (item === END) return items;
      items.push(item);
    }
  }

  mapOf(items: Value[], line: number): ValueMap {
    if (items.length % 2 !== 0) this.fail("expected a map with a value for every key", line);
    return new ValueMap(items, line);
  }

  /** `#{...}` a set, `#_` handled by readForm, `#tag form` the form itself. */
  readDispatch(): Value {
    const next = this.text[this.pos + 1];
    if (next === "{") {
      this.pos += 2;
      return new ValueSet(this.readUntil("}"));
    }
    this.pos++;
    const tag = this.readToken();
    if (tag === "") this.fail(`expected a tag, a set or #_ after "#", found "${next ?? ""}"`);
    const form = this.readForm(null);
    if (form === END) this.fail(`expected a form after the tag #${tag}`);
    return form;
  }

  readString(): string {
    const start = this.line;
    let out = "";
    let from = ++this.pos;
    const text = this.text;
    for (; this.pos < text.length; this.pos++) {
      const char = text[this.pos];
      if (char === '"') {
        out += text.slice(from, this.pos++);
        return out;
      }
      if (char === "\n") this.line++;
      if (char !== "\\") continue;
      out += text.slice(from, this.pos);
      out += this.readEscape();
      from = this.pos + 1;
    }
    return this.fail("expected the string's closing quote before the end of the text", start);
  }

  /** The escape at `pos` (its backslash); leaves `pos` on its last character. */
  readEscape(): string {
    const code = this.text[this.pos + 1];
    if (code === "u") {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`expected four hex digits after \\u`);
      this.pos += 5;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    const escaped = STRING_ESCAPES[code];
    if (escaped === undefined) this.fail(`unknown escape "\\${code ?? ""}" in a string`);
    this.pos++;
    return escaped;
  }

  readCharacter(): string {
    this.pos++;
    const first = this.text[this.pos] ?? "";
    const token = first + this.readToken(1);
    if (token.length === 1) return token;
    if (token in CHARACTER_NAMES) return CHARACTER_NAMES[token];
    if (/^u[0-9a-fA-F]{4}$/.test(token)) {
      return String.fromCharCode(Number.parseInt(token.slice(1), 16));
    }
    return this.fail(`expected a character after "\\", found "\\${token}"`);
  }

  /** The characters up to the next delimiter, `skip` of them taken whatever they are. */
  readToken(skip = 0): string {
    const text = this.text;
    const start = this.pos + skip;
    let pos = start;
    for (; pos < text.length; pos++) {
      const code = text.charCodeAt(pos);
      if (code < 128 ? DELIMITERS[code] === 1 : code === 0xa0 || code === 0xfeff) break;
    }
    this.pos = pos;
    return text.slice(start, pos);
  }

  readAtom(token: string): Value {
    if (token === "nil") return null;
    if (token === "true") return true;
    if (token === "false") return false;
    if (/^[+-]?\d/.test(token)) return this.readNumber(token);
    if (token === "") this.fail(`unexpected "${this.text[this.pos]}"`);
    return new EdnSymbol(token);
  }

  readNumber(token: string): number | bigint {
    if (token.length < 16 && isDigits(token)) return Number(token);
    if (/^[+-]?\d+N?$/.test(token)) {
      const digits = token.replace(/N$/, "");
      const value = Number(digits);
      return Number.isSafeInteger(value) ? value : BigInt(digits);
    }
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(token)) return Number(token.replace(/^\+/, ""));
    if (/^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/.test(token)) return Number(token.replace(/M$/, ""));
    const ratio = /^([+-]?\d+)\/(\d+)$/.exec(token);
    if (ratio && Number(ratio[2]) !== 0) return Number(ratio[1]) / Number(ratio[2]);
    return this.fail(`expected a number, found "${token}"`);
  }
}

/** Only digits (the common case of a number, read without a regular expression). */
function isDigits(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}
