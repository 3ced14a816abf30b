// Draws appPackage/color.png (192×192, full colour) and appPackage/outline.png (32×32, white on
// transparent), as Teams wants them: an envelope with a gate bar across it. PNG written by hand
// (zlib for the deflate, no image library): `node scripts/icons.cjs`.
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const zlib = require('node:zlib');

function png(width, height, rgba) {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0; // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Distance from p to segment ab. */
function segment(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Signed distance to a rounded rectangle centred at (cx, cy). */
function roundedRect(px, py, cx, cy, hw, hh, r) {
  const qx = Math.abs(px - cx) - hw + r, qy = Math.abs(py - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/**
 * The glyph in a unit square (0..1): an envelope outline with its flap, and a bar (the gate) below
 * it. Returns coverage of the stroke at p for a stroke half-width w.
 */
function glyph(x, y, w) {
  const body = Math.abs(roundedRect(x, y, 0.5, 0.45, 0.36, 0.24, 0.05)) - w;
  const flap = Math.min(segment(x, y, 0.16, 0.26, 0.5, 0.5), segment(x, y, 0.5, 0.5, 0.84, 0.26)) - w;
  const gate = roundedRect(x, y, 0.5, 0.84, 0.36, w * 1.1, w) ;
  return Math.min(body, flap, gate);
}

function render(size, paint) {
  const out = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [pr, pg, pb, pa] = paint((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          r += pr * pa; g += pg * pa; b += pb * pa; a += pa;
        }
      }
      const n = samples * samples, i = (y * size + x) * 4;
      out[i] = a ? Math.round(r / a) : 0; out[i + 1] = a ? Math.round(g / a) : 0; out[i + 2] = a ? Math.round(b / a) : 0;
      out[i + 3] = Math.round((a / n) * 255);
    }
  }
  return out;
}

const dir = join(__dirname, '..', 'appPackage');
// Colour icon: the glyph in white on Teams' indigo, filling the square (Teams rounds the corners).
const color = render(192, (x, y) => {
  const inGlyph = glyph((x - 0.5) / 0.7 + 0.5, (y - 0.5) / 0.7 + 0.5, 0.045) <= 0;
  return inGlyph ? [255, 255, 255, 1] : [0x4f, 0x52, 0xb2, 1];
});
writeFileSync(join(dir, 'color.png'), png(192, 192, color));
// Outline icon: the same glyph, white, on transparent, with a little margin.
const outline = render(32, (x, y) => {
  const inGlyph = glyph((x - 0.5) / 0.9 + 0.5, (y - 0.5) / 0.9 + 0.5, 0.05) <= 0;
  return inGlyph ? [255, 255, 255, 1] : [0, 0, 0, 0];
});
writeFileSync(join(dir, 'outline.png'), png(32, 32, outline));
process.stdout.write('Wrote appPackage/color.png and appPackage/outline.png\n');
