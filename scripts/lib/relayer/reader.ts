/**
 * Reads newline-delimited input from a file (optionally following it as it grows) or a stream, a line or a group of
 * lines at a time, with bounded memory: a line longer than the limit is cut there, flagged, and the rest of it is
 * skipped as it streams past, never buffered.
 */
import { open } from "node:fs/promises";

import { sleep } from "./async.js";

export interface InputLine {
  /** 1-based line number in the input. */
  readonly lineNo: number;
  /** The line without its line ending; at most `maxLineBytes` bytes of it when `tooLong`. */
  readonly text: string;
  /** The line was longer than the limit. */
  readonly tooLong: boolean;
}

export type InputSource =
  | { readonly kind: "file"; readonly path: string; readonly follow: boolean }
  | { readonly kind: "stream"; readonly stream: AsyncIterable<Uint8Array | string> };

export interface ReadOptions {
  readonly maxLineBytes: number;
  /** How often a followed file is checked for growth. */
  readonly pollIntervalMs: number;
  /** Stops the reading between chunks (and at once while a followed file waits for growth). */
  readonly signal?: AbortSignal;
  /** Told when a followed file shrank (truncated or replaced) and is read again from the start. */
  readonly onRestart?: (path: string) => void;
}

/** Bytes read from a file per call: big enough to amortise the syscall, small enough to stay cache friendly. */
const FILE_CHUNK_BYTES = 64 * 1024;
/** Most lines in one group: a group is validated and journaled as one transaction, so this bounds the memory a
 * stream of tiny lines can pin and the work a kill -9 can make the next run repeat. A 64 KiB chunk of readings
 * (about 110 bytes each) completes ~600 lines, so groups are normally whole chunks. */
export const MAX_GROUP_LINES = 1_000;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Splits bytes into lines with a per-line byte limit. Feed it chunks with {push}; call {end} at end of input. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder("utf-8");
  #parts: Uint8Array[] = [];
  #size = 0;
  #tooLong = false;
  #lineNo = 0;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The lines that `chunk` completes. */
  push(chunk: Uint8Array): InputLine[] {
    const lines: InputLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      const bytes = chunk.subarray(start, newline);
      // Most lines lie whole within one chunk and within the limit: decoded in place, with no copy.
      if (this.#size === 0 && !this.#tooLong && bytes.length <= this.#maxLineBytes) {
        lines.push(this.#line(bytes, false));
      } else {
        this.#keep(bytes);
        lines.push(this.#emit());
      }
      start = newline + 1;
    }
    this.#keep(chunk.subarray(start));
    return lines;
  }

  /** The last line when the input does not end with a newline. */
  end(): InputLine[] {
    return this.#size > 0 || this.#tooLong ? [this.#emit()] : [];
  }

  /** Forgets any partial line and numbers lines from 1 again (the input restarted). */
  reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#tooLong = false;
    this.#lineNo = 0;
  }

  #keep(bytes: Uint8Array): void {
    const room = this.#maxLineBytes - this.#size;
    if (bytes.length > room) this.#tooLong = true;
    const kept = bytes.length > room ? bytes.subarray(0, Math.max(room, 0)) : bytes;
    if (kept.length === 0) return;
    // Copy: the caller may reuse its buffer for the next chunk.
    this.#parts.push(Uint8Array.from(kept));
    this.#size += kept.length;
  }

  #emit(): InputLine {
    const line = this.#line(Buffer.concat(this.#parts, this.#size), this.#tooLong);
    this.#parts = [];
    this.#size = 0;
    this.#tooLong = false;
    return line;
  }

  #line(bytes: Uint8Array, tooLong: boolean): InputLine {
    const end = !tooLong && bytes.at(-1) === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
    return { lineNo: ++this.#lineNo, text: this.#decoder.decode(bytes.subarray(0, end)), tooLong };
  }
}

/** Yields the input's lines (empty ones included, so numbering matches the file). */
export async function* readLines(source: InputSource, options: ReadOptions): AsyncGenerator<InputLine> {
  for await (const group of readLineGroups(source, options)) yield* group;
}

/**
 * Yields the input's lines in groups, in order: the lines each chunk of input completes, at most
 * {MAX_GROUP_LINES} at a time, never an empty group. Lines are numbered as {readLines} numbers them.
 */
export async function* readLineGroups(source: InputSource, options: ReadOptions): AsyncGenerator<InputLine[]> {
  const splitter = new LineSplitter(options.maxLineBytes);
  const chunks = source.kind === "file" ? fileChunks(source, splitter, options) : streamChunks(source.stream);
  for await (const chunk of chunks) {
    if (options.signal?.aborted) return;
    yield* capped(splitter.push(chunk));
  }
  // A followed file ends only on abort, and its last partial line may still be being written.
  const followed = source.kind === "file" && source.follow;
  if (!options.signal?.aborted && !followed) yield* capped(splitter.end());
}

function* capped(lines: InputLine[]): Generator<InputLine[]> {
  if (lines.length <= MAX_GROUP_LINES) {
    if (lines.length > 0) yield lines;
    return;
  }
  for (let start = 0; start < lines.length; start += MAX_GROUP_LINES) yield lines.slice(start, start + MAX_GROUP_LINES);
}

async function* streamChunks(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield typeof chunk === "string" ? Buffer.from(chunk, "utf-8") : chunk;
}

async function* fileChunks(
  source: { readonly path: string; readonly follow: boolean },
  splitter: LineSplitter,
  options: ReadOptions,
): AsyncGenerator<Uint8Array> {
  const handle = await open(source.path, "r");
  try {
    const buffer = Buffer.alloc(FILE_CHUNK_BYTES);
    let position = 0;
    while (!options.signal?.aborted) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      if (!source.follow) return;
      if ((await handle.stat()).size < position) {
        // Truncated or rewritten in place: read it again; the journal skips what was already taken.
        position = 0;
        splitter.reset();
        options.onRestart?.(source.path);
        continue;
      }
      await sleep(options.pollIntervalMs, options.signal);
    }
  } finally {
    await handle.close();
  }
}
