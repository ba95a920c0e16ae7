import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { CODEC_DEFLATE, CODEC_NONE, decompressBlockSync } from '../../src/storage/compress.js';
import { createWorkerCompressor, workerCompressor } from '../../src/storage/compress-worker.js';
import { COMPRESS_WORKER_BATCH_BYTES } from '../../src/storage/constants.js';
import { seededRandom } from '../../src/sim/prng.js';

/** A 4 KiB block of sorted records: compresses well. */
function textBlock(n: number): Buffer {
  const b = Buffer.alloc(4096);
  for (let j = 0; j < 4096; j += 16) b.write(`key-${String(n * 256 + j).padStart(8, '0')}:v`, j, 'latin1');
  return b;
}

function randomBlock(seed: number, bytes = 4096): Buffer {
  const r = seededRandom(seed);
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(r() * 256);
  return b;
}

describe('worker compressor', () => {
  it('compresses what pays, stores the rest raw, and decompresses back', async () => {
    const c = createWorkerCompressor();
    const text = textBlock(1);
    const packed = await c.compress(text);
    assert.equal(packed.codec, CODEC_DEFLATE);
    assert.ok(packed.data.length < text.length / 2, `ratio: ${packed.data.length} of ${text.length}`);
    assert.deepEqual(Buffer.from(await c.decompress(packed.codec, packed.data)), text);
    assert.deepEqual(Buffer.from(c.decompressSync(packed.codec, packed.data)), text, 'the synchronous read path reads the same block');
    const noise = randomBlock(7);
    const raw = await c.compress(noise);
    assert.equal(raw.codec, CODEC_NONE);
    assert.equal(raw.data, noise, 'an incompressible block is kept as it was handed over');
    const tiny = Buffer.from('short');
    assert.deepEqual(await c.compress(tiny), { codec: CODEC_NONE, data: tiny });
  });

  it('a batch of mixed blocks handed over at once: every block gets its own result', async () => {
    const c = workerCompressor();
    const blocks = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? randomBlock(i) : textBlock(i)));
    assert.ok(blocks.length * 4096 > COMPRESS_WORKER_BATCH_BYTES, 'more than one batch');
    const coded = await Promise.all(blocks.map((b) => c.compress(b)));
    coded.forEach((x, i) => assert.equal(x.codec, i % 3 === 0 ? CODEC_NONE : CODEC_DEFLATE, `block ${i}`));
    const back = await Promise.all(coded.map((x) => c.decompress(x.codec, x.data)));
    back.forEach((b, i) => assert.deepEqual(Buffer.from(b), blocks[i], `block ${i}`));
    // What the worker wrote is what zlib itself would read back.
    assert.deepEqual(decompressBlockSync(coded[1]!.codec, coded[1]!.data), blocks[1]);
  });

  it('a damaged block fails alone; the others of its batch decode', async () => {
    const c = createWorkerCompressor();
    const good = deflateRawSync(textBlock(3));
    const bad = Buffer.from(good);
    bad.fill(0xff, 0, 16);
    const results = await Promise.allSettled([c.decompress(CODEC_DEFLATE, good), c.decompress(CODEC_DEFLATE, bad), c.decompress(CODEC_DEFLATE, good)]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.equal(results[2]!.status, 'fulfilled');
    assert.deepEqual(Buffer.from((results[2] as PromiseFulfilledResult<Uint8Array>).value), textBlock(3));
    await assert.rejects(c.decompress(9, good), /unknown codec/);
  });
});
