// safetensors: bit-exact round trips, the byte layout of the spec read back from the file, atomic
// writes (no temporary left behind, an existing file replaced only by a complete one), and
// malformed inputs built byte by byte, each of which must be refused with the file's name and
// the problem.
// The raw bytes of a tensor's values (for bit-exact comparisons, NaN payloads and -0 included).
// The file with the digits of its "crc32":"00000000" filled in, computed here independently of the
// library: zlib's CRC-32 of the whole file as it stands (with the zeros).
// A safetensors file: the 8-byte length (the header's unless given), the header, the data.
// The message of the std::runtime_error parse_safetensors throws ("" when it accepts the bytes).
#include "zoograd/tests/test_serialize.h"

TEST(Safetensors, RoundTripIsBitExact) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  NamedTensors tensors = sample_tensors();
  Metadata metadata = {{"format", "pt"}, {"epoch", "7"}, {"note", "\xce\xb1\xce\xb2 \"quoted\"\n\\"}};
  save_safetensors(path, tensors, metadata);
  SafetensorsFile back = load_safetensors(path);
  expect_same(back.tensors, tensors);
  EXPECT_EQ(back.metadata, metadata);

  // The loaded tensors own their storage.
  EXPECT_NE(back.tensors[0].second.impl().storage.get(), tensors[0].second.impl().storage.get());
  EXPECT_EQ(back.tensors[3].second.item(), 3.5);
  EXPECT_EQ(back.tensors[1].second.data<double>()[0], 0.1);
  EXPECT_TRUE(std::signbit(back.tensors[1].second.data<double>()[1]));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(back.tensors[0].second.data<float>()[5]), 0x7fc12345u);

  // The same through parse_safetensors over the file's bytes.
  SafetensorsFile parsed = parse_safetensors(read_bytes(path), "mem");
  expect_same(parsed.tensors, tensors);
  EXPECT_EQ(parsed.metadata, metadata);
}

TEST(Safetensors, RoundTripWithoutTensorsOrMetadata) {
  TempDir dir;
  std::string path = dir / "empty.safetensors";
  save_safetensors(path, {});
  std::string bytes = read_bytes(path);
  EXPECT_EQ(bytes, with_crc(le64(40) + R"({"__metadata__":{"crc32":"00000000"}})" + "   "));
  SafetensorsFile back = load_safetensors(path);
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_TRUE(back.metadata.empty());

  save_safetensors(path, {}, {{"k", "v"}});
  back = load_safetensors(path);
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_EQ(back.metadata, (Metadata{{"k", "v"}}));
}

TEST(Safetensors, SaveRejectsDuplicateAndReservedNames) {
  TempDir dir;
  std::string path = dir / "m.safetensors";
  try {
    save_safetensors(path, {{"w", zeros({1})}, {"w", zeros({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_CONTAINS(e.what(), "\"w\"");
  }
  EXPECT_THROW(save_safetensors(path, {{"__metadata__", zeros({1})}}), std::invalid_argument);
  EXPECT_CONTAINS(error_of([&] { save_safetensors(path, {}, {{"crc32", "0"}}); }), "metadata key \"crc32\" is reserved");
  EXPECT_TRUE(listing(dir.path()).empty());
}

// ---- the byte layout ----

TEST(Safetensors, ByteLayoutOfASmallFile) {
  TempDir dir;
  std::string path = dir / "x.safetensors";
  save_safetensors(path, {{"x", tensor({1.0}, {1})}});
  const std::string json =
      R"({"__metadata__":{"crc32":"00000000"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string header = json + std::string((8 - json.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size(), 96u);
  EXPECT_EQ(read_bytes(path), with_crc(le64(96) + header + std::string("\x00\x00\x80\x3f", 4)));
}

TEST(Safetensors, ByteLayoutFollowsTheSpec) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  NamedTensors tensors = sample_tensors();
  save_safetensors(path, tensors, {{"format", "pt"}});
  std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);

  // First 8 bytes: the header's length, little-endian; the data starts 8-byte aligned.
  std::uint64_t n = read_le64(bytes);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ(n % 8, 0u);
  std::string header = bytes.substr(8, n);
  ASSERT_FALSE(header.empty());
  EXPECT_EQ(header[0], '{');
  // The JSON ends at the last '}'; only spaces pad it.
  std::size_t close = header.find_last_of('}');
  ASSERT_NE(close, std::string::npos);
  EXPECT_LT(header.size() - close - 1, 8u);
  EXPECT_EQ(header.substr(close + 1), std::string(header.size() - close - 1, ' '));

  nlohmann::ordered_json j = nlohmann::ordered_json::parse(header);
  ASSERT_TRUE(j.is_object());
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  ASSERT_EQ(keys.size(), tensors.size() + 1);
  EXPECT_EQ(keys[0], "__metadata__");
  // Plain string metadata, which any safetensors reader takes; the crc32 over the whole file comes first.
  EXPECT_EQ(j["__metadata__"].begin().key(), "crc32");
  std::string crc = j["__metadata__"]["crc32"];
  j["__metadata__"].erase("crc32");
  EXPECT_EQ(j["__metadata__"], (nlohmann::ordered_json{{"format", "pt"}}));
  std::string zeroed = bytes;
  EXPECT_EQ(with_crc(zeroed.replace(bytes.find(crc), 8, "00000000")), bytes);

  // Data offsets are contiguous in tensor order, start at 0 and end at the end of the file.
  const std::string data = bytes.substr(8 + n);
  std::uint64_t expected_begin = 0;
  const char* dtypes[] = {"F32", "F64", "I64"};
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(keys[i + 1], name);
    const auto& entry = j[name];
    EXPECT_EQ(entry["dtype"], dtypes[static_cast<int>(t.dtype())]);
    EXPECT_EQ(entry["shape"].get<std::vector<std::int64_t>>(), t.shape());
    ASSERT_TRUE(entry["data_offsets"].is_array());
    ASSERT_EQ(entry["data_offsets"].size(), 2u);
    auto begin = entry["data_offsets"][0].get<std::uint64_t>(), end = entry["data_offsets"][1].get<std::uint64_t>();
    EXPECT_EQ(begin, expected_begin);
    EXPECT_EQ(end - begin, static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype()));
    EXPECT_EQ(data.substr(begin, end - begin), raw(t));  // little-endian values, as in memory on x86/ARM
    expected_begin = end;
  }
  EXPECT_EQ(expected_begin, data.size());
  EXPECT_EQ(j["step"]["shape"], nlohmann::ordered_json::array());  // a scalar's shape is []
}

// ---- atomic writes ----

TEST(Safetensors, NoTemporaryFileRemains) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  for (int i = 0; i < 3; ++i) save_safetensors(path, {{"w", full({4}, i)}});
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));
  EXPECT_EQ(load_safetensors(path).tensors[0].second.to_vector(), (std::vector<double>{2, 2, 2, 2}));

  // A relative path (no folder part) writes into the current folder, also without leftovers.
  fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  save_safetensors("relative.safetensors", {{"w", ones({2})}});
  fs::current_path(cwd);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors", "relative.safetensors"}));
}

TEST(Safetensors, MissingFolderThrowsNamingThePath) {
  TempDir dir;
  std::string path = dir / "no/such/folder/model.safetensors";
  try {
    save_safetensors(path, {{"w", ones({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
  }
  EXPECT_FALSE(fs::exists(dir.path() / "no"));
  EXPECT_TRUE(listing(dir.path()).empty());

  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "cannot open");
  }
}

TEST(Safetensors, ExistingFileIsReplacedByACompleteNewOne) {
  TempDir dir;
  std::string path = dir / "model.safetensors", link = dir / "old.link";
  save_safetensors(path, {{"w", full({1000}, 1.0)}});
  const std::string old_bytes = read_bytes(path);
  // A second name for the old file: if the new file were written in place, this would change too.
  fs::create_hard_link(path, link);

  save_safetensors(path, {{"v", full({3}, 2.0, DType::Float64)}}, {{"epoch", "2"}});
  SafetensorsFile now = load_safetensors(path);
  ASSERT_EQ(now.tensors.size(), 1u);
  EXPECT_EQ(now.tensors[0].first, "v");
  EXPECT_EQ(now.tensors[0].second.to_vector(), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(read_bytes(link), old_bytes);  // the old file is intact, only unlinked from its name
  struct stat a{}, b{};
  ASSERT_EQ(::stat(path.c_str(), &a), 0);
  ASSERT_EQ(::stat(link.c_str(), &b), 0);
  EXPECT_NE(a.st_ino, b.st_ino);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors", "old.link"}));
}

TEST(Safetensors, FailedSaveLeavesTheExistingFileUntouched) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, {{"w", full({8}, 1.0)}});
  const std::string old_bytes = read_bytes(path);

  // Refused before anything is written.
  EXPECT_THROW(save_safetensors(path, {{"a", ones({1})}, {"a", ones({1})}}), std::invalid_argument);
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));

  // A write that fails half-way: a file-size limit of 64 KiB against 400 KB of data (EFBIG).
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  Tensor big = full({100000}, 3.0);
  std::string message;
  {
    struct sigaction ignore{}, previous{};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);
    rlimit small = old_limit;
    small.rlim_cur = 64 * 1024;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    try {
      save_safetensors(path, {{"big", big}});
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::sigaction(SIGXFSZ, &previous, nullptr);
  }
  ASSERT_FALSE(message.empty()) << "the save succeeded despite the limit";
  EXPECT_CONTAINS(message, path);
  EXPECT_CONTAINS(message, "write");
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));

  // The rename fails: the target is a non-empty folder. The temporary file is removed.
  std::string folder = dir / "folder.safetensors";
  fs::create_directory(folder);
  write_bytes(folder + "/keep", "x");
  try {
    save_safetensors(folder, {{"w", ones({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), folder);
    EXPECT_CONTAINS(e.what(), "rename");
  }
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"folder.safetensors", "model.safetensors"}));
  EXPECT_EQ(listing(folder), (std::vector<std::string>{"keep"}));
}

// ---- the crc32 ----

TEST(Safetensors, CrcCatchesEverySingleByteFlip) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, sample_tensors(), {{"format", "pt"}});
  const std::string bytes = read_bytes(path);
  ASSERT_TRUE(parse_safetensors(bytes, "good").checksummed);
  // A flip in the key's 5 letters can leave valid JSON without a crc32 ("brc32"), which is what a
  // file of another tool looks like; a checkpoint reader requires the crc32 and refuses those.
  const std::size_t key = bytes.find(R"("crc32")") + 1;
  std::size_t caught = 0, renamed = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int mask : {0x01, 0xff}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      std::optional<SafetensorsFile> f;
      if (parse_error(damaged).empty()) f = parse_safetensors(damaged, "bad.safetensors");
      if (!f) ++caught;
      else if (i >= key && i < key + 5 && !f->checksummed) ++renamed;
      else ADD_FAILURE() << "flip " << mask << " at byte " << i << " accepted";
    }
  }
  EXPECT_EQ(caught + renamed, 2 * bytes.size());
  EXPECT_LE(renamed, 10u);
}
