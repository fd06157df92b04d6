// Clean interruption (train/run/interrupt.h), durable files (write_file_atomic), and no false success:
// SIGINT/SIGTERM stop a run between two steps with the last complete checkpoint kept, no temporary
// file and one line on how to resume (exit 130/143); every file a run writes is synced before its
// rename; a failed write names the file and the OS's reason; an empty test split is an error; a
// non-finite loss is printed as a string.
#include <gtest/gtest.h>
#include <sys/resource.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "zoograd/core/kernels/parallel.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/tests/child_process.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/checkpoint.h"
#include "zoograd/train/run/interrupt.h"
#include "zoograd/train/run/trainer.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::error_of;
using zg_tests::Finished;
using zg_tests::TempDir;

std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) names.push_back(entry.path().filename());
  return names;
}

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A run long enough to be interrupted, stopped by `signal` once its second checkpoint is written.
Finished interrupted_run(const TempDir& dir, int signal) {
  zg_tests::Child run(ZG_CLI_PATH, {"train", "--data", "spirals", "--epochs", "1000", "--hidden", "32", "--quiet",
                                    "--threads", "1", "--out", "run"},
                      dir.path());
  if (zg_tests::eventually([&] { return fs::exists(dir / "run/checkpoint-000002.safetensors"); })) run.send(signal);
  return run.wait(120);
}

// Issue example: Ctrl-C had no handler, and a Ctrl-C while model.safetensors was written left a
// full-size .model.safetensors.tmp.* that nothing removed.
TEST(Interrupt, SigintStopsBetweenStepsKeepsTheLastCheckpointAndSaysHowToResume) {
  TempDir dir;
  Finished f = interrupted_run(dir, SIGINT);
  ASSERT_EQ(f.code, 130) << f.err;
  const std::int64_t kept = read_latest_checkpoint(dir / "run").state.epoch;
  EXPECT_GE(kept, 2);
  EXPECT_CONTAINS(f.err, "zoograd: interrupted by SIGINT during epoch " + std::to_string(kept + 1) + "; run keeps epoch " +
                             std::to_string(kept) + "; continue with: zoograd train --resume run\n");
  EXPECT_EQ(temporaries(dir / "run"), std::vector<std::string>{});
  EXPECT_NO_THROW(load_safetensors(dir / "run/model.safetensors"));
  // Resumed (the saved total of 1000 epochs lowered to two more), it ends where a straight run does.
  const std::string epochs = std::to_string(kept + 2);
  Finished resumed = zg_tests::zoograd({"train", "--resume", "run", "--epochs", epochs}, dir.path());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  Finished straight = zg_tests::zoograd({"train", "--data", "spirals", "--epochs", epochs, "--hidden", "32", "--quiet",
                                         "--threads", "1", "--out", "straight"},
                                        dir.path());
  ASSERT_EQ(straight.code, 0) << straight.err;
  EXPECT_EQ(zg_tests::values_of(load_safetensors(dir / "run/model.safetensors").tensors),
            zg_tests::values_of(load_safetensors(dir / "straight/model.safetensors").tensors));
}

TEST(Interrupt, SigtermStopsTheSameWayWithExitCode143) {
  TempDir dir;
  Finished f = interrupted_run(dir, SIGTERM);
  ASSERT_EQ(f.code, 143) << f.err;
  EXPECT_CONTAINS(f.err, "zoograd: interrupted by SIGTERM during epoch ");
  EXPECT_CONTAINS(f.err, "continue with: zoograd train --resume run");
  EXPECT_EQ(temporaries(dir / "run"), std::vector<std::string>{});
}

TEST(Interrupt, TheAtlasStopsTooAndWritesNothing) {
  TempDir dir;
  const std::string data = zg_tests::stroke_images(dir.path(), 300, 60);
  zg_tests::Child atlas(ZG_CLI_PATH, {"margins", "--data", data, "--losses", "softmax,cosface", "--epochs", "1000", "--jobs",
                                      "2", "--threads", "1", "--out", "atlas"},
                        dir.path());
  ASSERT_TRUE(atlas.wait_for_err("epoch 1/1000"));  // training: the handlers are in place
  atlas.send(SIGINT);
  Finished f = atlas.wait(120);
  EXPECT_EQ(f.code, 130) << f.err;
  EXPECT_CONTAINS(f.err, "zoograd: interrupted by SIGINT; the atlas was not written, nothing was changed in atlas\n");
  EXPECT_FALSE(fs::exists(dir / "atlas"));
}

// A real SIGINT arriving in the middle of writing model.safetensors: the handler only records it,
// the write and the rest of the epoch's files complete, and the run stops before its next step.
TEST(Interrupt, ASignalDuringAFileWriteLetsTheEpochsFilesComplete) {
  TempDir dir;
  pid_t pid = ::fork();
  if (pid == 0) {
    install_interrupt_handlers();
    set_num_threads(1);
    bool raised = false;
    set_save_fault_hook([&](std::string_view step) {
      if (step == "write data" && !raised) raised = (std::raise(SIGINT), true);
    });
    TrainConfig c;
    c.data = "blobs", c.hidden = {8}, c.epochs = 3, c.threads = 1, c.quiet = true, c.out = dir / "run";
    try {
      run_train(c);
    } catch (const Interrupted& e) {
      std::ofstream(dir / "message") << e.what();
      ::_exit(128 + e.signal);
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_EQ(bytes_of(dir / "message"), "interrupted by SIGINT during epoch 2; " + dir / "run" +
                                           " keeps epoch 1; continue with: zoograd train --resume " + dir / "run");
  EXPECT_EQ(read_latest_checkpoint(dir / "run").state.epoch, 1);
  EXPECT_EQ(temporaries(dir / "run"), std::vector<std::string>{});
  for (const char* file : {"run.json", "model.safetensors", "config.json", "metrics.csv", "index.html"})
    EXPECT_TRUE(fs::exists(dir.path() / "run" / file)) << file;
}

TEST(Interrupt, BeforeTheFirstEpochNothingIsSavedAndNoFolderIsLeft) {
  TempDir dir;
  TrainConfig c;
  c.data = "blobs", c.hidden = {8}, c.epochs = 3, c.threads = 1, c.quiet = true, c.out = dir / "run";
  set_pending_interrupt(SIGTERM);
  std::string message = error_of([&] { run_train(c); });
  set_pending_interrupt(0);
  EXPECT_EQ(message, "interrupted by SIGTERM during epoch 1; no epoch was complete, so nothing was saved");
  EXPECT_FALSE(fs::exists(dir / "run"));
}

// Only the two safetensors files were fsynced; config.json, the metrics, the SVGs, confusion.csv
// and index.html were renamed into place without one.
TEST(Durability, EveryFileOfARunIsSyncedBeforeItsRename) {
  TempDir dir;
  std::vector<std::string> steps;
  set_save_fault_hook([&](std::string_view step) { steps.emplace_back(step); });
  TrainConfig c;
  c.data = "blobs", c.hidden = {8}, c.epochs = 1, c.threads = 1, c.quiet = true, c.out = dir / "run";
  run_train(c);
  set_save_fault_hook({});
  int renames = 0;
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i] == "rename") {
      ++renames;
      ASSERT_GE(i, 2u);
      EXPECT_EQ(steps[i - 1], "close");
      EXPECT_EQ(steps[i - 2], "fsync");
      ASSERT_LT(i + 1, steps.size());
      EXPECT_EQ(steps[i + 1], "fsync folder");
    }
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir / "run")) files += entry.path().filename() != ".lock";
  EXPECT_EQ(renames, files) << "every file of the folder came through write_file_atomic";
  EXPECT_EQ(files, 17);  // the figures in three formats each
}

// Issue example: a full disk while the report files were written gave "config.json: cannot write"
// (no reason) and left a .tmp file.
TEST(Durability, AFailedWriteNamesTheFileAndTheReasonAndLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir / "config.json";
  write_file_atomic(path, "old");
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 1000;  // bytes: a write past it fails with EFBIG, as on a full disk with ENOSPC
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::string error = error_of([&] { write_file_atomic(path, std::string(5000, 'x')); });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(error, path + ": write failed: File too large");
  EXPECT_EQ(bytes_of(path), "old");
  EXPECT_EQ(temporaries(dir.path()), std::vector<std::string>{});
  EXPECT_CONTAINS(error_of([&] { write_file_atomic(dir / "no/such/folder/x", "x"); }),
                  dir / "no/such/folder/x" + ": cannot create a temporary file in " + dir / "no/such/folder" +
                      ": No such file or directory");
}

TEST(Durability, ARunOnAFullDiskExitsOneNamingTheFileAndLeavesNoTemporaryFile) {
  TempDir dir;
  // SIGXFSZ ignored (inherited through exec), so the write fails with EFBIG instead of killing it.
  Finished f = zg_tests::Child("/bin/sh",
                               {"-c", std::string("trap '' XFSZ; ulimit -f 4; exec ") + ZG_CLI_PATH +
                                          " train --data blobs --epochs 2 --hidden 64 --quiet --threads 1 --out run"},
                               dir.path())
                   .wait(120);
  EXPECT_EQ(f.code, 1) << f.err;
  EXPECT_CONTAINS(f.err, "zoograd: error: run/");
  EXPECT_CONTAINS(f.err, ": write failed: File too large");
  EXPECT_EQ(temporaries(dir / "run"), std::vector<std::string>{});
}

// An image folder of two classes with `per_class` 16x16 PNGs each; returns its folder: data spec.
// The folder reader keeps a fifth of each class for testing: none of 2, one of 5.
std::string image_folder(const fs::path& root, int per_class) {
  for (const char* cls : {"a", "b"}) {
    fs::create_directories(root / cls);
    for (int i = 0; i < per_class; ++i) {
      std::vector<std::uint8_t> grey(16 * 16, 0);
      grey[static_cast<std::size_t>(cls[0] == 'a' ? 4 * 16 + i : 12 * 16 + i)] = 255;
      stbi_write_png((root / cls / (std::to_string(i) + ".png")).c_str(), 16, 16, 1, grey.data(), 16);
    }
  }
  return "folder:" + root.string();
}

// Issue example: a data set with an empty test split printed "test accuracy: 0.0000" (and eval a
// test loss of 0) with exit code 0.
TEST(NoFalseSuccess, AnEmptyTestSplitIsAnError) {
  TempDir dir;
  const std::string empty_test = image_folder(dir / "two", 2);
  Finished f = zg_tests::zoograd({"train", "--data", empty_test, "--epochs", "1", "--quiet", "--out", "run"}, dir.path());
  EXPECT_EQ(f.code, 1) << f.err;
  EXPECT_CONTAINS(f.err, "zoograd: error: data set " + empty_test + ": the test split is empty");
  EXPECT_EQ(f.out, "");
  EXPECT_FALSE(fs::exists(dir / "run"));
  ASSERT_EQ(zg_tests::zoograd({"train", "--data", image_folder(dir / "five", 5), "--epochs", "1", "--quiet", "--out", "run"},
                              dir.path())
                .code,
            0);
  Finished e = zg_tests::zoograd({"eval", "--model", "run", "--data", empty_test}, dir.path());
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_CONTAINS(e.err, "the test split is empty");
  EXPECT_EQ(e.out, "");
}

// Issue example: loss eval printed an infinite loss as null with exit code 0.
TEST(NoFalseSuccess, LossEvalPrintsANonFiniteLossAsAString) {
  TempDir dir;
  std::ofstream(dir / "in.json") << R"({"inputs": {"input": [1e300], "target": [0]}})";
  Finished f = zg_tests::zoograd({"loss", "eval", "mse_loss"}, dir.path(), dir / "in.json");
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(nlohmann::json::parse(f.out).at("loss"), "inf");
  EXPECT_EQ(f.out.find("null"), std::string::npos) << f.out;
}

}  // namespace
