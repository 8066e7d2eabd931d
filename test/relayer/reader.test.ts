import { appendFile, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";

import { expect } from "chai";

import {
  LineSplitter,
  MAX_GROUP_LINES,
  readLineGroups,
  readLines,
  type InputLine,
  type InputSource,
} from "../../scripts/lib/relayer/reader.js";

const encode = (text: string) => Buffer.from(text, "utf-8");

async function collect(source: InputSource, maxLineBytes = 64): Promise<InputLine[]> {
  const lines: InputLine[] = [];
  for await (const line of readLines(source, { maxLineBytes, pollIntervalMs: 10 })) lines.push(line);
  return lines;
}

async function collectGroups(source: InputSource, maxLineBytes = 64): Promise<InputLine[][]> {
  const groups: InputLine[][] = [];
  for await (const group of readLineGroups(source, { maxLineBytes, pollIntervalMs: 10 })) groups.push(group);
  return groups;
}

/** Resolves once `predicate` holds for the lines read so far. */
function waitFor(lines: InputLine[], predicate: (lines: InputLine[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (!predicate(lines)) return;
      clearInterval(poll);
      resolve();
    }, 5);
  });
}

describe("relayer reader", function () {
  describe("LineSplitter", function () {
    it("splits chunks into numbered lines across chunk boundaries", function () {
      const splitter = new LineSplitter(64);
      expect(splitter.push(encode('{"a":1}\n{"b"'))).to.deep.equal([{ lineNo: 1, text: '{"a":1}', tooLong: false }]);
      expect(splitter.push(encode(":2}\r\n\n"))).to.deep.equal([
        { lineNo: 2, text: '{"b":2}', tooLong: false },
        { lineNo: 3, text: "", tooLong: false },
      ]);
      expect(splitter.push(encode("tail"))).to.deep.equal([]);
      expect(splitter.end()).to.deep.equal([{ lineNo: 4, text: "tail", tooLong: false }]);
    });

    it("cuts a long line at the limit, flags it, and resumes at the next line", function () {
      const splitter = new LineSplitter(8);
      const lines = [...splitter.push(encode("0123456789abcdef")), ...splitter.push(encode("ghij\nok\n"))];
      expect(lines).to.deep.equal([
        { lineNo: 1, text: "01234567", tooLong: true },
        { lineNo: 2, text: "ok", tooLong: false },
      ]);
    });

    it("keeps a partial line even when the caller reuses its buffer for the next chunk", function () {
      const splitter = new LineSplitter(64);
      const buffer = Buffer.alloc(8);
      buffer.write("ab\ncd\nef");
      expect(splitter.push(buffer).map((line) => line.text)).to.deep.equal(["ab", "cd"]);
      buffer.fill(0).write("gh\n");
      expect(splitter.push(buffer.subarray(0, 3)).map((line) => line.text)).to.deep.equal(["efgh"]);
    });

    it("keeps at most the limit in memory however long the line grows", function () {
      const splitter = new LineSplitter(64);
      const megabyte = Buffer.alloc(1 << 20, 0x61);
      for (let index = 0; index < 16; index++) expect(splitter.push(megabyte)).to.deep.equal([]);
      const [line] = splitter.push(encode("\n"));
      expect(line).to.deep.equal({ lineNo: 1, text: "a".repeat(64), tooLong: true });
    });
  });

  describe("readLineGroups", function () {
    it("groups the lines each chunk completes, numbered as readLines numbers them", async function () {
      const stream = Readable.from([encode("a\nb\nc"), encode("c\n"), encode("partial"), encode("\n\nd")]);
      const groups = await collectGroups({ kind: "stream", stream });
      expect(groups.map((group) => group.map((line) => [line.lineNo, line.text]))).to.deep.equal([
        [
          [1, "a"],
          [2, "b"],
        ],
        [[3, "cc"]],
        [
          [4, "partial"],
          [5, ""],
        ],
        [[6, "d"]],
      ]);
    });

    it(`caps a group at ${MAX_GROUP_LINES} lines`, async function () {
      const count = 2 * MAX_GROUP_LINES + 500;
      const text = Array.from({ length: count }, (_, index) => `line ${index + 1}`).join("\n") + "\n";
      const groups = await collectGroups({ kind: "stream", stream: Readable.from([encode(text)]) });
      expect(groups.map((group) => group.length)).to.deep.equal([MAX_GROUP_LINES, MAX_GROUP_LINES, 500]);
      expect(groups.flat().map((line) => line.lineNo)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
      expect(groups[2].at(-1)?.text).to.equal(`line ${count}`);
    });
  });

  describe("readLines", function () {
    let dir: string;

    beforeEach(async function () {
      dir = await mkdtemp(path.join(tmpdir(), "relayer-reader-"));
    });

    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("reads a file to its end, last line without newline included", async function () {
      const file = path.join(dir, "in.ndjson");
      await writeFile(file, "one\ntwo\nthree");
      const lines = await collect({ kind: "file", path: file, follow: false });
      expect(lines.map((line) => line.text)).to.deep.equal(["one", "two", "three"]);
    });

    it("reads a stream of strings and buffers alike", async function () {
      const stream = Readable.from([encode("a\nb"), "c\n", encode("d\n")]);
      const lines = await collect({ kind: "stream", stream });
      expect(lines.map((line) => [line.lineNo, line.text])).to.deep.equal([
        [1, "a"],
        [2, "bc"],
        [3, "d"],
      ]);
    });

    it("follows a growing file until aborted, and holds back a half-written line", async function () {
      const file = path.join(dir, "follow.ndjson");
      await writeFile(file, "first\n");
      const stop = new AbortController();
      const lines: InputLine[] = [];
      const reading = (async () => {
        const source: InputSource = { kind: "file", path: file, follow: true };
        for await (const line of readLines(source, { maxLineBytes: 64, pollIntervalMs: 10, signal: stop.signal })) {
          lines.push(line);
        }
      })();
      await waitFor(lines, (seen) => seen.length === 1);
      await appendFile(file, "second\nthi");
      await waitFor(lines, (seen) => seen.length === 2);
      await appendFile(file, "rd\n");
      await waitFor(lines, (seen) => seen.length === 3);
      stop.abort();
      await reading;
      expect(lines.map((line) => line.text)).to.deep.equal(["first", "second", "third"]);
    });

    it("reads a followed file again from the start when it shrinks", async function () {
      const file = path.join(dir, "rotated.ndjson");
      await writeFile(file, "old-1\nold-2\n");
      const stop = new AbortController();
      const lines: InputLine[] = [];
      let restarts = 0;
      const reading = (async () => {
        const source: InputSource = { kind: "file", path: file, follow: true };
        const options = { maxLineBytes: 64, pollIntervalMs: 10, signal: stop.signal, onRestart: () => restarts++ };
        for await (const line of readLines(source, options)) lines.push(line);
      })();
      await waitFor(lines, (seen) => seen.length === 2);
      await truncate(file, 0);
      await appendFile(file, "new-1\n");
      await waitFor(lines, (seen) => seen.length === 3);
      stop.abort();
      await reading;
      expect(restarts).to.equal(1);
      expect(lines[2]).to.deep.equal({ lineNo: 1, text: "new-1", tooLong: false });
    });
  });
});
