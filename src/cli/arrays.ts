// The arrays the command line reads: a .npy file, one member of a .npz archive (stored or deflated), one
// tensor of a .safetensors file, or a .npy on standard input. Each is opened as an ArrayReader that
// hands out its data in order, a chunk at a time, so the logits are never held whole: regular files
// are read with positioned reads, standard input and deflated members as streams.
//
// A name is chosen as FILE:NAME. The format is told by the file's first bytes, not its name.
//
// The formats are read by src/arrays/reader.ts, which runs in any runtime; this module gives it the
// files (a ByteSource over a descriptor), standard input and node:zlib's inflater.

import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import {
  ArrayFileError, ByteStream, type ArrayReader as AnyArrayReader, type ArraySpec, type ByteSource, type Inflater,
  type ReadOptions, openArrayIn, openNpyStream,
} from '../arrays/reader.js';
import { type OpenedFile, openNpyFile, readAt } from './npy.js';

export {
  ArrayFileError, ByteStream, ELEMENT_SIZE, elementCount, floatAt, floatInput, floatView, intData, isFloat, shapeText,
  type ArraySpec, type ElementType, type FloatData, type ScorerFloats,
} from '../arrays/reader.js';

/** One array opened for reading, its data handed out in order. */
export interface ArrayReader extends AnyArrayReader {
  /** The regular file read (undefined for standard input), for --plot's identity check. */
  readonly file?: OpenedFile;
}

/**
 * Splits FILE:NAME. The whole argument is a path when such a file exists (paths may hold ':', as
 * Windows drive letters do); else the longest prefix before a ':' that exists is the path.
 * @param exists tells whether a path names a file (injected for tests)
 */
export function parseArraySpec(arg: string, exists: (path: string) => boolean): ArraySpec {
  if (arg === '-' || exists(arg)) return { path: arg };
  for (let i = arg.lastIndexOf(':'); i > 0; i = arg.lastIndexOf(':', i - 1)) {
    const path = arg.slice(0, i);
    if (exists(path)) return { path, name: arg.slice(i + 1) };
  }
  return { path: arg };
}

/** Where main reads '-' from. */
export type StdinSource = AsyncIterable<Uint8Array> & Partial<Pick<Readable, 'destroy'>>;

// node:zlib and node:stream are loaded when a deflated member is read, not with the command line:
// together they are a few ms of every run's start.
// (Built-ins resolve the same from any folder: this module's is as good as any.)
let requireHere: NodeJS.Require | undefined;
const load = (id: string): unknown => (requireHere ??= createRequire(new URL('./', import.meta.url)))(id);
type Zlib = typeof import('node:zlib') & { crc32?: (data: Uint8Array, value?: number) => number };
let zlibModule: Zlib | undefined;
const zlib = (): Zlib => (zlibModule ??= load('node:zlib') as Zlib);

/** Raw deflate through node:zlib (with Node's own CRC-32 where it has one: Node >= 20.15). */
const zlibInflater: Inflater = (chunks) => {
  const { Readable: ReadableClass } = load('node:stream') as typeof import('node:stream');
  const compressed = ReadableClass.from(chunks, { objectMode: false });
  const inflate = zlib().createInflateRaw();
  compressed.on('error', (e) => inflate.destroy(e));
  compressed.pipe(inflate);
  return {
    output: inflate,
    close: () => {
      compressed.destroy();
      inflate.destroy();
    },
  };
};

const NODE_READ: ReadOptions = {
  inflateRaw: zlibInflater,
  // Read by the reader only for a deflated member (src/arrays/reader.ts).
  get crc32() {
    return zlib().crc32;
  },
};

/** A regular file opened by openNpyFile, read with positioned reads; close closes the descriptor once. */
function fileSource(file: OpenedFile): ByteSource {
  let open = true;
  return {
    size: Number(file.stats.size),
    read: (position, length, into) => readAt(file.fd, position, length, into),
    close: () => {
      if (open) closeSync(file.fd);
      open = false;
    },
  };
}

/**
 * Opens an array: the file's format is told by its first bytes (.npy magic, zip signature, else
 * safetensors). '-' is a .npy on `stdin`.
 * @throws NpyFormatError / ArrayFileError for malformed files, a missing member, or a name given for a
 *   .npy file; Node's system errors for an unreadable path
 */
export async function openArray(spec: ArraySpec, stdin: () => StdinSource): Promise<ArrayReader> {
  if (spec.path === '-') {
    if (spec.name !== undefined) throw new ArrayFileError('-', 'standard input holds one .npy array; give no :NAME');
    const source = stdin();
    return openNpyStream('-', '<standard input>', new ByteStream(source, () => source.destroy?.()));
  }
  const file = openNpyFile(spec.path);
  // openArrayIn closes the source when it fails, and the reader's close does after.
  return { ...(await openArrayIn(fileSource(file), spec, NODE_READ)), file };
}
