#!/usr/bin/env python3
"""Writes tests/corpus/: malformed inputs for each file reader, and manifest.json giving for each
case the reader, its file or folder, the paths the error must name and a substring it must hold
(tests/test_corpus.cpp checks them all). Also writes valid seed files for the fuzzers to
tests/fuzz/seeds/. Standard library only; the output is deterministic, so rerunning it after
changing a case shows only that case in git diff.

Usage: scripts/make_corpus.py
"""
import gzip
import json
import shutil
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SEEDS = ROOT / "tests" / "fuzz" / "seeds"
manifest = []


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def case(reader, files, expect, names=None):
    """One corpus entry; files (and names, the paths the message must contain) are relative to tests/corpus."""
    manifest.append({"reader": reader, "files": files, "names": names or files, "expect": expect})


def gz(data):
    return gzip.compress(data, mtime=0)  # mtime 0: the same bytes on every run


# ---- IDX ----

def idx(dims, payload, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_cases():
    images = idx([2, 3, 3], bytes(range(18)))
    labels = idx([2], bytes([1, 7]))
    for n in range(16):  # every byte of the image header
        write(CORPUS / f"idx/images-cut-{n:02}.idx", images[:n])
        case("idx-images", [f"idx/images-cut-{n:02}.idx"], f"header is truncated: the data ends after {n} bytes")
    for n in range(8):  # every byte of the label header
        write(CORPUS / f"idx/labels-cut-{n}.idx", labels[:n])
        case("idx-labels", [f"idx/labels-cut-{n}.idx"], f"header is truncated: the data ends after {n} bytes")
    for n in (0, 4, 15):
        write(CORPUS / f"idx/images-cut-{n:02}.idx.gz", gz(images[:n]))
        case("idx-images", [f"idx/images-cut-{n:02}.idx.gz"], f"header is truncated: the data ends after {n} bytes")

    packed = gz(images)
    crc_at, length_at = len(packed) - 8, len(packed) - 4

    def flip(data, at):
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]

    single = [
        ("idx-images", "zip-magic.idx", b"PK" + images[2:], "not an IDX file: magic number starts with 0x50 0x4B"),
        ("idx-images", "labels-as-images.idx", labels, "magic 2049 is an IDX label file; expected an image file (2051)"),
        ("idx-labels", "images-as-labels.idx.gz", gz(images), "magic 2051 is an IDX image file; expected a label file (2049)"),
        ("idx-images", "float-type.idx", idx([2, 3, 3], bytes(72), 0x0D), "type byte 0x0D (32-bit float) is not supported"),
        ("idx-images", "rank-2.idx", idx([2, 9], bytes(18)), "rank 2 (magic 2050) is wrong; expected rank 3"),
        ("idx-images", "zero-items.idx", idx([0, 3, 3], b""), "dimension 0 (items) is 0; allowed 1..10000000"),
        ("idx-images", "items-overflow.idx", idx([0xFFFFFFFF, 3, 3], b""), "dimension 0 (items) is 4294967295"),
        ("idx-images", "rows-overflow.idx", idx([1, 70000, 28], b""), "dimension 1 (rows) is 70000; allowed 1..4096"),
        ("idx-images", "columns-overflow.idx.gz", gz(idx([1, 28, 0x80000000], b"")), "dimension 2 (columns) is 2147483648"),
        ("idx-images", "payload-overflow.idx", idx([10_000_000, 4096, 4096], b""),
         "dims [10000000, 4096, 4096] make a payload larger than the limit of 2147483648 bytes"),
        ("idx-labels", "labels-overflow.idx", idx([4_000_000_000], b""), "dimension 0 (items) is 4000000000"),
        ("idx-images", "short-payload.idx", images[:-1],
         "payload is truncated: dims [2, 3, 3] need 18 bytes after the 16-byte header, but the file has 17"),
        ("idx-images", "short-payload.idx.gz", gz(images[:-4]), "but the decompressed data has 14"),
        ("idx-images", "gzip-claims-2gb.idx.gz", gz(idx([2_000_000, 32, 32], bytes(10))),
         "dims [2000000, 32, 32] need 2048000000 bytes after the 16-byte header, but the decompressed data has 10"),
        ("idx-images", "trailing.idx", images + b"\1\2\3\4\5", "5 trailing bytes after the payload of 18 bytes"),
        ("idx-images", "trailing-inside-gzip.idx.gz", gz(images + b"\0"),
         "trailing bytes after the payload of 18 bytes (dims [2, 3, 3]) in the decompressed data"),
        ("idx-images", "garbage-after-gzip.idx.gz", packed + b"junk", "4 trailing bytes after the end of the gzip stream"),
        ("idx-images", "two-gzip-members.idx.gz", packed + packed,
         f"{len(packed)} trailing bytes after the end of the gzip stream"),
        ("idx-images", "gzip-cut-in-header.idx.gz", packed[:5], "gzip stream is truncated"),
        ("idx-images", "gzip-cut-in-data.idx.gz", packed[:len(packed) // 2], "gzip stream is truncated"),
        ("idx-images", "gzip-cut-in-trailer.idx.gz", packed[:-3], "gzip stream is truncated"),
        ("idx-images", "bad-crc.idx.gz", flip(packed, crc_at), "gzip data is corrupt (zlib: incorrect data check)"),
        ("idx-images", "bad-length.idx.gz", flip(packed, length_at), "gzip data is corrupt (zlib: incorrect length check)"),
        ("idx-images", "bad-method.idx.gz", packed[:2] + b"\7" + packed[3:], "unknown compression method"),
    ]
    for reader, name, data, expect in single:
        write(CORPUS / "idx" / name, data)
        case(reader, [f"idx/{name}"], expect)

    # Pairs: a valid image file and label file, and label files that do not go with them.
    pair = {"images.idx": images, "labels.idx": labels, "images.idx.gz": gz(images), "labels.idx.gz": gz(labels),
            "three-labels.idx": idx([3], bytes([0, 1, 2])), "label-10.idx": idx([2], bytes([3, 10])),
            "label-255.idx.gz": gz(idx([2], bytes([255, 0])))}
    for name, data in pair.items():
        write(CORPUS / "idx/pair" / name, data)
    p = "idx/pair/"
    case("idx-pair", [p + "labels.idx", p + "images.idx"], "magic 2049 is an IDX label file; expected an image file (2051)",
         [p + "labels.idx"])
    case("idx-pair", [p + "images.idx.gz", p + "images.idx"], "magic 2051 is an IDX image file; expected a label file (2049)",
         [p + "images.idx"])
    case("idx-pair", [p + "labels.idx.gz", p + "images.idx.gz"], "magic 2049 is an IDX label file", [p + "labels.idx.gz"])
    case("idx-pair", [p + "images.idx", p + "three-labels.idx"], "holds 3 labels: the counts must match")
    case("idx-pair", [p + "images.idx.gz", p + "three-labels.idx"], "holds 2 images but")
    case("idx-pair", [p + "images.idx", p + "label-10.idx"], "label 10 at index 1 is out of range for 10 classes (0..9)",
         [p + "label-10.idx"])
    case("idx-pair", [p + "images.idx", p + "label-255.idx.gz"], "label 255 at index 0 is out of range",
         [p + "label-255.idx.gz"])
    # valid ones for the fuzzer to start from
    write(SEEDS / "idx/images.idx", images)
    write(SEEDS / "idx/labels.idx", labels)
    write(SEEDS / "idx/images.idx.gz", packed)


# ---- safetensors ----

def safetensors(header, data=b"", length=None):
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors_cases():
    data = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    good_header = {"__metadata__": {"epoch": "3"}, "w": tensor("F32", [2, 2], 0, 16), "b": tensor("F32", [2], 16, 24)}
    good = safetensors(good_header, data)
    text_length = struct.unpack("<Q", good[:8])[0]
    write(SEEDS / "safetensors/valid.safetensors", good)
    write(SEEDS / "safetensors/i64-f64.safetensors",
          safetensors({"n": tensor("I64", [1], 0, 8), "x": tensor("F64", [], 8, 16), "e": tensor("F32", [0], 16, 16)},
                      bytes(16)))

    def with_header(**changes):
        return {**good_header, **changes}

    cases = [(f"cut-{n}.safetensors", good[:n], f"file of {n} bytes is too short for the 8-byte header length")
             for n in range(8)]
    cases += [(f"cut-json-{n}.safetensors", good[:8 + n], f"header length {text_length} runs past the end of the file")
              for n in (0, 1, text_length // 2, text_length - 1)]
    cases += [
        ("cut-data.safetensors", good[:-4], "tensor \"b\": data_offsets [16, 24] fall outside the data section of 20 bytes"),
        ("header-over-100mb.safetensors", safetensors(b"{}", length=100_000_001),
         "header length 100000001 exceeds the 100 MB limit"),
        ("header-length-max.safetensors", safetensors(b"{}", length=2**64 - 1),
         "header length 18446744073709551615 exceeds the 100 MB limit"),
        ("header-array.safetensors", safetensors(b"[1, 2]"), "header does not start with '{'"),
        ("header-space-first.safetensors", safetensors(b" {}"), "header does not start with '{'"),
        ("header-empty.safetensors", safetensors(b""), "header does not start with '{'"),
        ("header-not-json.safetensors", safetensors(b'{"w": '), "header is not valid JSON"),
        ("header-nul.safetensors", safetensors(b"{}\0"), "header is not valid JSON: NUL byte at offset 10"),
        ("duplicate-key.safetensors",
         safetensors(b'{"w":' + json.dumps(good_header["w"]).encode() + b',"w":' + json.dumps(good_header["w"]).encode() + b"}",
                     data[:16]),
         "tensor \"w\" appears twice in the header"),
        ("hole.safetensors", safetensors(with_header(b=tensor("F32", [2], 20, 28)), data + bytes(4)),
         "hole in the data section before tensor \"b\" (bytes 16..20)"),
        ("overlap.safetensors", safetensors(with_header(b=tensor("F32", [2], 8, 16)), data[:16]),
         "tensor \"b\" overlaps the previous tensor's data"),
        ("trailing.safetensors", good + bytes(4), "4 trailing bytes after the last tensor's data"),
        ("dtype-f16.safetensors", safetensors(with_header(b=tensor("F16", [4], 16, 24)), data),
         "tensor \"b\": unsupported dtype \"F16\""),
        ("negative-shape.safetensors", safetensors(with_header(b=tensor("F32", [-2], 16, 24)), data),
         "tensor \"b\": shape holds a value that is not a non-negative integer"),
        ("huge-shape.safetensors", safetensors(with_header(b=tensor("F32", [2**41], 16, 24)), data),
         "tensor \"b\": shape [2199023255552] is too large"),
        ("span-mismatch.safetensors", safetensors(with_header(b=tensor("F32", [3], 16, 24)), data),
         "tensor \"b\": data_offsets span 8 bytes but shape [3] of F32 needs 12"),
        ("reversed-offsets.safetensors", safetensors(with_header(b=tensor("F32", [2], 24, 16)), data),
         "tensor \"b\": data_offsets [24, 16] fall outside"),
        ("string-offsets.safetensors", safetensors(with_header(b={**good_header["b"], "data_offsets": [16, "24"]}), data),
         "tensor \"b\": data_offsets must be two non-negative integers"),
        ("missing-dtype.safetensors", safetensors(with_header(b={"shape": [2], "data_offsets": [16, 24]}), data),
         "tensor \"b\" needs dtype, shape and data_offsets"),
        ("metadata-number.safetensors", safetensors(with_header(__metadata__={"epoch": 3}), data),
         "__metadata__.epoch is not a string"),
    ]
    for name, content, expect in cases:
        write(CORPUS / "safetensors" / name, content)
        case("safetensors", [f"safetensors/{name}"], expect)


# ---- npm digit JSON: folders of 0.json ... 9.json, one of them bad ----

def digits_cases():
    image = ",".join(["0"] * 784)
    valid = '{"data":[' + image + "]}"
    # bad file, its digit, expected text
    cases = {
        "not-json": (0, "hello", "not valid JSON"),
        "truncated": (1, '{"data": [0, 0.5', "not valid JSON"),
        "trailing-text": (2, valid + " x", "not valid JSON"),
        "top-level-array": (3, "[0, 1]", "not a JSON object: the top level is an array"),
        "no-data": (4, '{"pixels": [' + image + "]}", "the object has no \"data\" array"),
        "data-number": (5, '{"data": 5}', "\"data\" is a number, expected an array of numbers"),
        "data-empty": (6, '{"data": []}', "\"data\" is empty: no images"),
        "count-785": (7, '{"data": [0,' + image + "]}", "\"data\" holds 785 values, not a multiple of 784"),
        "value-above-1": (8, '{"data": [0, 1.5]}', "data[1] = 1.5 is outside [0, 1]"),
        "value-negative": (9, '{"data": [-0.25]}', "data[0] = -0.25 is outside [0, 1]"),
        "value-string": (0, '{"data": [0, 0, "0.5"]}', "data[2] is a string, expected a number in [0, 1]"),
        "value-overflow": (3, '{"data": [0, 1e400]}', "number overflow parsing '1e400'"),
        "data-twice": (6, '{"data": [' + image + '], "data": [0]}', "\"data\" appears twice"),
    }
    for name, (digit, bad, expect) in cases.items():
        folder = CORPUS / "digits_json" / name
        for d in range(10):
            write(folder / f"{d}.json", bad if d == digit else valid)
        case("digits_json", [f"digits_json/{name}"], expect, [f"digits_json/{name}/{digit}.json"])
    for d in range(5):
        write(CORPUS / f"digits_json/missing-5/{d}.json", valid)
    case("digits_json", ["digits_json/missing-5"], "cannot read", ["digits_json/missing-5/5.json"])
    pixels = ",".join(f"{(3 * i) % 256 / 255:.3f}" for i in range(784))
    write(SEEDS / "digits_json/0.json", '{"data":[' + pixels + "]}")


# ---- PNG image folders ----

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(w, h, depth=8, colour=0, rows=None, palette=None, idat=None, interlace=0):
    """A PNG file; rows default to black scanlines of the right length (filter byte 0 each)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    if rows is None:
        rows = (b"\0" + bytes((w * channels * depth + 7) // 8)) * h
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace))
    if palette is not None:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(rows, 9) if idat is None else idat) + chunk(b"IEND", b"")


def png_cases():
    good = png(2, 2, rows=b"\0\x10\x20\0\x30\x40")
    full = png(2, 2)
    # folder, its files (path: bytes or text), the path the message names, expected text
    cases = [
        ("16-bit", {"a/x.png": good, "a/y.png": png(2, 2, depth=16)}, "a/y.png", "16-bit PNG is not supported"),
        ("oversized", {"a/x.png": png(1025, 1)}, "a/x.png", "image of 1025x1 exceeds max_side 1024"),
        ("oversized-header-only", {"a/x.png": png(2000, 2000, idat=b"")}, "a/x.png", "image of 2000x2000 exceeds max_side"),
        ("beyond-stb-limit", {"a/x.png": png(100_000, 1, idat=b"")}, "a/x.png", "not a valid PNG file (stb_image: too large)"),
        ("zero-width", {"a/x.png": png(0, 2, idat=b"")}, "a/x.png", "not a valid PNG file (stb_image: 0-pixel image)"),
        ("bad-colour-type", {"a/x.png": png(2, 2, colour=5)}, "a/x.png", "not a valid PNG file (stb_image: bad ctype)"),
        ("bad-bit-depth", {"a/x.png": png(2, 2, depth=3)}, "a/x.png", "not a valid PNG file (stb_image: 1/2/4/8/16-bit only)"),
        ("jpeg-bytes", {"a/x.png": b"\xff\xd8\xff\xe0\0\x10JFIF\0"}, "a/x.png", "not a valid PNG file"),
        ("empty-file", {"a/x.png": b""}, "a/x.png", "not a valid PNG file"),
        ("cut-signature", {"a/x.png": good[:5]}, "a/x.png", "not a valid PNG file"),
        ("cut-idat", {"a/x.png": good, "b/y.png": full[:45]}, "b/y.png", "cannot decode PNG (stb_image: "),
        ("corrupt-idat", {"a/x.png": png(2, 2, idat=b"\x78\x9c\xff\xff\xff\xff")}, "a/x.png",
         "cannot decode PNG (stb_image: corrupt data, no reason given)"),
        ("short-rows", {"a/x.png": png(2, 2, rows=b"\0\1")}, "a/x.png", "cannot decode PNG"),
        # found by fuzz_png: an empty first IDAT chunk had stb_image memcpy to NULL
        ("empty-idat-then-cut", {"a/x.png": png(2, 2, colour=2, idat=b"")[:-12] + struct.pack(">I", 10**6) + b"IDAT"},
         "a/x.png", "cannot decode PNG (stb_image: outofdata)"),
        ("palette-without-plte", {"a/x.png": png(2, 2, colour=3)}, "a/x.png", "not a valid PNG file (stb_image: no PLTE)"),
        ("mixed-sizes", {"a/x.png": good, "b/y.png": png(3, 2)}, "b/y.png", "image is 3x2 but "),
        ("text-in-class", {"a/x.png": good, "a/notes.txt": "hello"}, "a/notes.txt", "not a .png file"),
        ("folder-in-class", {"a/x.png": good, "a/deeper/y.png": good}, "a/deeper", "not a .png file"),
        ("file-in-root", {"a/x.png": good, "README": "classes"}, "README", "not a folder: the root of an image folder"),
    ]
    for name, files, culprit, expect in cases:
        for path, content in files.items():
            write(CORPUS / "png_folder" / name / path, content)
        case("png_folder", [f"png_folder/{name}"], expect, [f"png_folder/{name}/{culprit}"])
    write(SEEDS / "png/grey.png", good)
    write(SEEDS / "png/grey-alpha.png", png(2, 1, colour=4, rows=b"\0\x10\xff\x20\x80"))
    write(SEEDS / "png/rgb.png", png(2, 2, colour=2, rows=b"\1" + bytes(range(6)) + b"\2" + bytes(range(6))))
    write(SEEDS / "png/rgba.png", png(1, 2, colour=6, rows=b"\3\1\2\3\4\4\5\6\7\x08"))
    write(SEEDS / "png/palette.png", png(2, 2, colour=3, palette=bytes(range(6)), rows=b"\0\0\1\0\1\0"))
    write(SEEDS / "png/one-bit.png", png(8, 2, depth=1, rows=b"\0\xa5\0\x5a"))
    write(SEEDS / "png/interlaced.png", png(3, 3, interlace=1, rows=bytes(32)))


# ---- training config files ----

def config_cases():
    cases = [
        ("not-json.json", "epochs: 3", "not valid JSON"),
        ("empty.json", "", "not valid JSON"),
        ("truncated.json", '{"epochs": 3,', "not valid JSON"),
        ("trailing-text.json", '{"epochs": 3} x', "not valid JSON"),
        ("array.json", "[1, 2]", "expected a JSON object of settings"),
        ("unknown-key.json", '{"epoch": 3}', "unknown setting \"epoch\""),
        ("epochs-string.json", '{"epochs": "3"}', "setting \"epochs\": expected a whole number in [1, 1000000], got \"3\""),
        ("epochs-float.json", '{"epochs": 2.5}', "setting \"epochs\": expected a whole number in [1, 1000000], got 2.5"),
        ("seed-negative.json", '{"seed": -1}',
         "setting \"seed\": expected a whole number in [0, 18446744073709551615], got -1"),
        ("seed-2-to-64.json", '{"seed": 18446744073709551616}',
         "setting \"seed\": expected a whole number in [0, 18446744073709551615], got 1.8446744073709552e+19"),
        ("hidden-huge-float.json", '{"hidden": [512, 1e300]}',
         "setting \"hidden\": expected a whole number in [1, 16777216], got 1e+300"),
        ("hidden-string.json", '{"hidden": "512"}',
         "setting \"hidden\" has the wrong type (string, expected an array of whole numbers)"),
        ("loss-params-string.json", '{"loss": "arcface_loss", "loss_params": {"m": "wide"}}',
         "setting \"loss_params\": m: expected a number, got \"wide\""),
        ("loss-params-fraction.json", '{"loss_params": {"ignore_index": 0.5}}',
         "--set: cross_entropy: ignore_index: expected a whole number in [-9007199254740992, 9007199254740992], got 0.5"),
        ("epochs-zero.json", '{"epochs": 0}', "setting \"epochs\": expected a whole number in [1, 1000000], got 0"),
        ("lr-negative.json", '{"lr": -0.1}', "setting \"lr\": expected a finite number in (0, 1000], got -0.1"),
        ("momentum-one.json", '{"momentum": 1}', "setting \"momentum\": expected a finite number in [0, 1), got 1"),
        ("threads-2-to-31.json", '{"threads": 2147483648}',
         "setting \"threads\": expected a whole number in [0, 1024], got 2147483648"),
        ("quiet-number.json", '{"quiet": 2}', "setting \"quiet\": expected 0, 1, false or true, got 2"),
        ("hidden-zero.json", '{"hidden": [512, 0]}', "setting \"hidden\": expected a whole number in [1, 16777216], got 0"),
        ("model-unknown.json", '{"model": "rnn"}', "setting \"model\": unknown model \"rnn\""),
        ("loss-unknown.json", '{"loss": "hinge"}', "--loss: unknown loss \"hinge\""),
        ("schedule-unknown.json", '{"schedule": "sometimes"}', "schedule \"sometimes\""),
    ]
    for name, text, expect in cases:
        write(CORPUS / "config" / name, text)
        case("config", [f"config/{name}"], expect)
    write(SEEDS / "config/full.json", json.dumps({
        "data": "moons", "model": "cnn", "hidden": [64, 32], "loss": "arcface_loss", "loss_params": {"m": 0.3, "s": 16},
        "embedding_dim": 8, "epochs": 2, "batch_size": 32, "lr": 0.05, "momentum": 0.5, "weight_decay": 0.0001,
        "schedule": "constant", "seed": 7, "threads": 1, "out": "runs/x", "quiet": True}, indent=1))


def main():
    for folder in (CORPUS, SEEDS):
        shutil.rmtree(folder, ignore_errors=True)
    idx_cases()
    safetensors_cases()
    digits_cases()
    png_cases()
    config_cases()
    lines = ",\n".join("  " + json.dumps(entry) for entry in manifest)
    write(CORPUS / "manifest.json", "[\n" + lines + "\n]\n")
    print(f"{len(manifest)} cases in {CORPUS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
