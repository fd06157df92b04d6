// Malformed safetensors files: every one refused with a message naming the file and the field.
#include "zoograd/tests/test_serialize.h"

TEST(Safetensors, CrcMismatchNamesTheFileAndBothValues) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, {{"w", full({4}, 1.0)}});
  std::string bytes = read_bytes(path);
  std::string stored = nlohmann::json::parse(bytes.substr(8, read_le64(bytes)))["__metadata__"]["crc32"];
  bytes.back() = static_cast<char>(bytes.back() ^ 0x40);
  write_bytes(path, bytes);
  std::string message = error_of([&] { load_safetensors(path); });
  EXPECT_TRUE(message.starts_with(path + ": CRC32 mismatch (stored " + stored + ", computed ")) << message;
  EXPECT_TRUE(message.ends_with("): the file is damaged")) << message;
}

TEST(Safetensors, FindsTheCrcAnywhereInTheMetadata) {
  std::string header = R"({"__metadata__":{"format":"pt","crc32":"00000000"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  SafetensorsFile f = parse_safetensors(with_crc(st_file(header, raw_of<float>({2.5f}))), "moved");
  EXPECT_TRUE(f.checksummed);
  EXPECT_EQ(f.metadata, (Metadata{{"format", "pt"}}));
  EXPECT_EQ(f.tensors[0].second.item(), 2.5);
}

TEST(Safetensors, RefusesAMalformedCrc) {
  for (const char* crc : {R"("0000000")", R"("000000000")", R"("ABCDEF01")", R"("0000000g")", "12345678", "null"}) {
    SCOPED_TRACE(crc);
    EXPECT_REFUSED(st_file(std::string(R"({"__metadata__":{"crc32":)") + crc + "}}"), "__metadata__.crc32");
  }
  // Valid JSON, but not in the form the digits are found by.
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"crc32" : "00000000"}})"), "__metadata__.crc32");
}

// ---- valid files written by hand ----

TEST(Safetensors, ParsesHandWrittenFiles) {
  // Header order differs from data order; the tensors come back in header order.
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                       R"("b":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})";
  std::string data = raw_of<std::int64_t>({-5}) + raw_of<float>({0.25f});
  SafetensorsFile f = parse_safetensors(st_file(header, data), "hand.safetensors");
  EXPECT_FALSE(f.checksummed);  // files of other tools have no crc32 and load all the same
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].first, "w");
  EXPECT_EQ(f.tensors[0].second.to_vector(), (std::vector<double>{0.25}));
  EXPECT_EQ(f.tensors[1].first, "b");
  EXPECT_EQ(f.tensors[1].second.shape(), Shape{});
  EXPECT_EQ(f.tensors[1].second.data<std::int64_t>()[0], -5);

  // An empty tensor sharing its offset with the next tensor's start is no overlap, whatever the order.
  for (const std::string& h :
       {std::string(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                    R"("e":{"dtype":"F64","shape":[0,3],"data_offsets":[4,4]}})"),
        std::string(R"({"e":{"dtype":"F64","shape":[0,3],"data_offsets":[4,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                    R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})")}) {
    SafetensorsFile g = parse_safetensors(st_file(h, raw_of<float>({1, 2})), "empty.safetensors");
    ASSERT_EQ(g.tensors.size(), 3u);
    for (const auto& [name, t] : g.tensors) {
      if (name == "e") {
        EXPECT_EQ(t.shape(), (Shape{0, 3}));
      }
    }
  }

  // No padding, no tensors: the smallest valid file; whitespace inside the header is fine.
  EXPECT_TRUE(parse_safetensors(st_file("{}"), "min").tensors.empty());
  EXPECT_TRUE(parse_safetensors(st_file("{ \"__metadata__\" : { } }\n"), "ws").metadata.empty());
}

// ---- malformed files ----

TEST(Safetensors, RefusesTooShortFiles) {
  EXPECT_REFUSED(std::string(""), "too short");
  EXPECT_REFUSED(std::string("\x02\x00\x00", 3), "too short");
  EXPECT_REFUSED(std::string(7, '\0'), "too short");
}

TEST(Safetensors, RefusesHeaderLengthBeyondTheFile) {
  EXPECT_REFUSED(st_file("{}", "", 1000), "past the end");
  EXPECT_REFUSED(st_file("{}", "", 3), "past the end");
  EXPECT_REFUSED(le64(1), "past the end");
}

TEST(Safetensors, RefusesHeaderLongerThan100MB) {
  EXPECT_REFUSED(st_file("{}", "", 100'000'001), "100 MB");
  EXPECT_REFUSED(st_file("{}", "", std::numeric_limits<std::uint64_t>::max()), "100 MB");
  // A 2^63 length would wrap a signed size; it is refused all the same.
  EXPECT_REFUSED(st_file("{}", "", std::uint64_t{1} << 63), "100 MB");
}

TEST(Safetensors, RefusesHeaderNotStartingWithBrace) {
  EXPECT_REFUSED(st_file("[]"), "does not start with '{'");
  EXPECT_REFUSED(st_file(" {}"), "does not start with '{'");
  EXPECT_REFUSED(st_file(""), "does not start with '{'");
  EXPECT_REFUSED(st_file("\"{}\""), "does not start with '{'");
}

TEST(Safetensors, RefusesInvalidJson) {
  EXPECT_REFUSED(st_file(R"({"a": })"), "not valid JSON");
  EXPECT_REFUSED(st_file("{"), "not valid JSON");
  EXPECT_REFUSED(st_file(R"({"a":1} x)"), "not valid JSON");
  EXPECT_REFUSED(st_file(std::string("{}\0\0\0\0\0\0", 8)), "not valid JSON");  // NUL padding is not the spec's
  EXPECT_REFUSED(st_file(std::string("{}\0{\"x\":[", 8)), "not valid JSON");  // nor anything after a NUL
  EXPECT_REFUSED(st_file(std::string("{\"a\0\":1}", 8)), "not valid JSON");
}

TEST(Safetensors, RefusesDuplicateNames) {
  std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  std::string message = parse_error(st_file("{\"w\":" + entry + ",\"w\":" + entry + "}", raw_of<float>({1})));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "\"w\"");
  EXPECT_CONTAINS(message, "twice");
}

TEST(Safetensors, RefusesUnknownDtype) {
  for (const char* dt : {"BF16", "F16", "I32", "U8", "BOOL", "f32"}) {
    SCOPED_TRACE(dt);
    std::string h = std::string(R"({"w":{"dtype":")") + dt + R"(","shape":[2],"data_offsets":[0,4]}})";
    std::string message = parse_error(st_file(h, std::string(4, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "unsupported dtype");
    EXPECT_CONTAINS(message, std::string("\"") + dt + "\"");
    EXPECT_CONTAINS(message, "\"w\"");
  }
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "dtype is not a string");
}

TEST(Safetensors, RefusesBadShapes) {
  for (const char* shape : {"[-1]", "[2,-3]", "[1.5]", "[2.0]", "[\"2\"]", "[null]", "[[2]]", "[true]"}) {
    SCOPED_TRACE(shape);
    std::string h = std::string(R"({"w":{"dtype":"F32","shape":)") + shape + R"(,"data_offsets":[0,8]}})";
    std::string message = parse_error(st_file(h, std::string(8, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "shape");
    EXPECT_CONTAINS(message, "non-negative integer");
    EXPECT_CONTAINS(message, "\"w\"");
  }
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "shape is not an array");
  EXPECT_REFUSED(
      st_file(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", std::string(8, '\0')),
      "too large");
}

TEST(Safetensors, RefusesDataOffsetsThatAreNotTwoIntegers) {
  for (const char* off : {"[0]", "[0,4,8]", "[]", "[\"0\",\"4\"]", "[-4,0]", "[0,4.0]", "[0,null]", "{\"0\":4}", "4"}) {
    SCOPED_TRACE(off);
    std::string h = std::string(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":)") + off + "}}";
    std::string message = parse_error(st_file(h, std::string(4, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "data_offsets must be two non-negative integers");
    EXPECT_CONTAINS(message, "\"w\"");
  }
}

TEST(Safetensors, RefusesOffsetsOutsideTheData) {
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
                 "outside the data section of 8 bytes");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, '\0')),
                 "outside");
  EXPECT_REFUSED(
      st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]}})",
              std::string(8, '\0')),
      "outside");
}

TEST(Safetensors, RefusesOffsetsNotMatchingTheShape) {
  std::string message =
      parse_error(st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "\"w\"");
  EXPECT_CONTAINS(message, "span 8 bytes");
  EXPECT_CONTAINS(message, "needs 12");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F64","shape":[],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "needs 8");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"I64","shape":[0],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "needs 0");
}

TEST(Safetensors, RefusesOverlappingTensors) {
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  std::string message = parse_error(st_file(h, std::string(12, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "overlaps");
  EXPECT_CONTAINS(message, "\"b\"");
  // Two names for the same bytes.
  h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_REFUSED(st_file(h, std::string(8, '\0')), "overlaps");
}

TEST(Safetensors, OverlapsAreRefusedBeforeAllocating) {
  // 64 tensors of 1 MiB each over the same 1 MiB of data: refused without allocating 64 MiB.
  const std::uint64_t size = 1 << 20;
  std::string h = "{";
  for (int i = 0; i < 64; ++i)
    h += (i ? "," : "") + std::string("\"t") + std::to_string(i) + R"(":{"dtype":"F32","shape":[)" +
         std::to_string(size / 4) + R"(],"data_offsets":[0,)" + std::to_string(size) + "]}";
  h += "}";
  std::string bytes = st_file(h, std::string(size, '\0'));
  reset_peak_memory();
  std::int64_t before = memory_stats().current_bytes;
  EXPECT_REFUSED(bytes, "overlaps");
  EXPECT_LT(memory_stats().peak_bytes - before, static_cast<std::int64_t>(size));
}

TEST(Safetensors, RefusesAHoleBetweenTensors) {
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
  std::string message = parse_error(st_file(h, std::string(20, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "hole");
  EXPECT_CONTAINS(message, "\"b\"");
  EXPECT_CONTAINS(message, "bytes 8..12");
  // A hole at the start.
  EXPECT_REFUSED(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')), "hole");
}

TEST(Safetensors, RefusesTrailingBytes) {
  EXPECT_REFUSED(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(12, '\0')),
                 "4 trailing bytes");
  EXPECT_REFUSED(st_file("{}", "x"), "1 trailing bytes");
}

TEST(Safetensors, RefusesMetadataThatIsNotStrings) {
  std::string message = parse_error(st_file(R"({"__metadata__":{"format":"pt","epoch":3}})"));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "__metadata__.epoch");
  EXPECT_CONTAINS(message, "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"nested":{"a":"b"}}})"), "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"n":null}})"), "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":["a"]})"), "__metadata__ is not an object");
  EXPECT_REFUSED(st_file(R"({"__metadata__":"pt"})"), "__metadata__ is not an object");
}

TEST(Safetensors, RefusesIncompleteTensorEntries) {
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[1]}})", std::string(4, '\0')),
                 "needs dtype, shape and data_offsets");
  EXPECT_REFUSED(st_file(R"({"w":[1,2]})"), "needs dtype, shape and data_offsets");
  EXPECT_REFUSED(st_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')), "\"w\"");
}

TEST(Safetensors, LoadNamesTheFileInErrors) {
  TempDir dir;
  std::string path = dir / "broken.safetensors";
  write_bytes(path, st_file("{}", "xy"));
  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "trailing");
  }
  // A truncated copy of a real file.
  std::string good = dir / "good.safetensors";
  save_safetensors(good, {{"w", ones({16})}});
  std::string bytes = read_bytes(good);
  write_bytes(path, bytes.substr(0, bytes.size() - 1));
  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "CRC32 mismatch");
  }
}
