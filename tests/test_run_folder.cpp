// Run folders that cannot be mixed up (train/run/run_folder.h): a folder records which run it is,
// `train` refuses a folder holding another run or anything else, a lock keeps a second process
// out, and --resume refuses flags that contradict the saved run and says which ones it applies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "zoograd/core/io/serialize.h"
#include "zoograd/tests/child_process.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/checkpoint.h"
#include "zoograd/train/run/run_folder.h"
#include "zoograd/train/run/trainer.h"
#include "zoograd/train/run/values.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::error_of;
using zg_tests::Finished;
using zg_tests::TempDir;

// A short run on blobs, as the command line's arguments.
std::vector<std::string> blobs_run(const std::string& out, int epochs) {
  return {"train", "--data", "blobs", "--epochs", std::to_string(epochs), "--hidden", "8", "--quiet", "--threads", "1",
          "--out", out};
}

Finished zoograd(const TempDir& dir, std::vector<std::string> args) { return zg_tests::zoograd(args, dir.path()); }

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Every file of a folder (but the lock, which holds the pid of its last holder) with a hash of its
// bytes: what "nothing changed" is checked against.
std::map<std::string, std::size_t> snapshot(const fs::path& dir) {
  std::map<std::string, std::size_t> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() == ".lock") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[entry.path().filename().string()] = std::hash<std::string>{}(bytes.str());
  }
  return files;
}

void expect_one_line_refusal(const Finished& f, const std::string& part) {
  EXPECT_EQ(f.code, 2) << f.err;
  EXPECT_EQ(f.err_lines(), 1) << f.err;
  EXPECT_CONTAINS(f.err, part);
}

TEST(RunFolder, ANewRunRecordsItsIdInRunJsonTheModelAndEveryCheckpoint) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 2)).code, 0);
  const std::string run = dir / "run";
  const std::string id = recorded_run_id(run);
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(load_safetensors(run + "/model.safetensors").metadata.at("run"), id);
  for (const std::string& checkpoint : list_checkpoints(run)) EXPECT_EQ(read_checkpoint(checkpoint).state.run_id, id);
  ASSERT_EQ(zoograd(dir, blobs_run("other", 1)).code, 0);
  EXPECT_NE(recorded_run_id(dir / "other"), id) << "every run gets an id of its own";
}

// Issue example: a short run into the folder of a longer one deleted its own first checkpoint (the
// "two newest" were the old run's), left the models of two runs side by side, and --resume then
// continued the old run.
TEST(RunFolder, TrainingIntoAFolderHoldingAnotherRunIsRefusedAndLosesNothing) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 3)).code, 0);
  const auto before = snapshot(dir / "run");
  Finished f = zoograd(dir, blobs_run("run", 1));
  expect_one_line_refusal(f, "--out run holds another run; continue it with --resume run, choose a new --out, or pass "
                             "--overwrite to replace it");
  EXPECT_EQ(snapshot(dir / "run"), before);

  Finished replaced = zoograd(dir, with(blobs_run("run", 1), {"--overwrite"}));
  ASSERT_EQ(replaced.code, 0) << replaced.err;
  EXPECT_EQ(list_checkpoints(dir / "run"), std::vector<std::string>{dir / "run/checkpoint-000001.safetensors"});
  EXPECT_NE(recorded_run_id(dir / "run"), "");
  EXPECT_NE(snapshot(dir / "run").at("model.safetensors"), before.at("model.safetensors"));
}

// Issue example: an --out that was no run folder had its config.json, index.html, metrics.csv
// replaced, with exit code 0.
TEST(RunFolder, AFolderHoldingAnythingElseIsNeverWrittenIntoEvenWithOverwrite) {
  TempDir dir;
  fs::create_directories(dir / "mine");
  for (const char* name : {"config.json", "index.html", "metrics.csv"}) std::ofstream(dir / ("mine/" + std::string(name))) << "mine";
  const auto before = snapshot(dir / "mine");
  for (bool overwrite : {false, true}) {
    Finished f = zoograd(dir, with(blobs_run("mine", 1), overwrite ? std::vector<std::string>{"--overwrite"}
                                                                   : std::vector<std::string>{}));
    expect_one_line_refusal(f, "--out mine is not empty and holds no zoograd run (config.json, index.html, "
                               "metrics.csv); choose a new --out");
    EXPECT_EQ(snapshot(dir / "mine"), before);
  }
  fs::create_directories(dir / "empty");
  EXPECT_EQ(zoograd(dir, blobs_run("empty", 1)).code, 0) << "an empty folder is as good as a missing one";
}

// Issue example: two processes on one --out deleted each other's temporary files mid-write, or
// both exited 0 claiming the folder.
TEST(RunFolder, ASecondProcessIsKeptOutByTheLock) {
  TempDir dir;
  {
    RunFolder held(dir / "run", RunFolder::Start::New);
    Finished f = zoograd(dir, blobs_run("run", 1));
    expect_one_line_refusal(f, "run is in use by another zoograd process (pid " + std::to_string(::getpid()) +
                                   "); wait for it to finish, or choose another --out");
    EXPECT_THROW(RunFolder(dir / "run", RunFolder::Start::Overwrite), UsageError);
  }
  EXPECT_FALSE(fs::exists(dir / "run")) << "a folder in which no run was recorded is left as found";
  // Two real processes: the second is refused while the first trains on, unharmed.
  zg_tests::Child first(ZG_CLI_PATH, {"train", "--data", "spirals", "--epochs", "1000", "--hidden", "32", "--quiet",
                                      "--threads", "1", "--out", "busy"},
                        dir.path());
  ASSERT_TRUE(zg_tests::eventually([&] { return fs::exists(dir / "busy/run.json"); }));
  expect_one_line_refusal(zoograd(dir, with(blobs_run("busy", 1), {"--overwrite"})), "busy is in use");
  expect_one_line_refusal(zoograd(dir, {"train", "--resume", "busy", "--epochs", "2000"}), "busy is in use");
  first.send(SIGTERM);
  Finished ended = first.wait(60);
  EXPECT_EQ(ended.code, 143) << ended.err;
  EXPECT_NO_THROW(read_latest_checkpoint(dir / "busy"));
}

// Issue example: --resume D with --epochs 3 --model cnn --lr 5 --data spirals --out X trained the
// saved set-up without a word about the ignored flags, and did not create X.
TEST(RunFolder, ResumeRefusesFlagsThatContradictTheSavedRun) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 2)).code, 0);
  const auto before = snapshot(dir / "run");
  Finished f = zoograd(dir, {"train", "--resume", "run", "--epochs", "3", "--model", "cnn", "--lr", "5", "--data",
                             "spirals", "--out", "X"});
  expect_one_line_refusal(f, "--resume run: --data spirals (the run has --data blobs), --model cnn (the run has --model "
                             "mlp), --lr 5 (the run has --lr 0.1), --out X (the run has --out run) contradict the saved "
                             "run, which keeps its set-up");
  EXPECT_FALSE(fs::exists(dir / "X"));
  EXPECT_EQ(snapshot(dir / "run"), before);
  // A flag repeating the saved value is no contradiction.
  EXPECT_EQ(zoograd(dir, {"train", "--resume", "run", "--epochs", "3", "--data", "blobs", "--out", "run"}).code, 0);
}

// Issue example: resuming a finished 3-epoch run without --epochs trained on to the default 10.
TEST(RunFolder, ResumeKeepsTheSavedEpochsAndSaysWhichFlagsItApplies) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 3)).code, 0);
  expect_one_line_refusal(zoograd(dir, {"train", "--resume", "run"}),
                          "--resume run: the run has trained 3 of its 3 epochs; pass --epochs N with N > 3 to train on");
  Finished f = zoograd(dir, {"train", "--resume", "run", "--epochs", "4", "--threads", "2"});
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_CONTAINS(f.err, "resuming run with --epochs 4 (the saved run has --epochs 3)");
  EXPECT_CONTAINS(f.err, "resuming run with --threads 2 (the saved run has --threads 1)");
  std::ifstream metrics(dir / "run/metrics.jsonl");
  int rows = 0;
  for (std::string line; std::getline(metrics, line);) ++rows;
  EXPECT_EQ(rows, 4);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "run/config.json")).at("epochs"), 4);
}

TEST(RunFolder, AFolderMixingTwoRunsIsNotResumed) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("a", 2)).code, 0);
  ASSERT_EQ(zoograd(dir, blobs_run("b", 3)).code, 0);
  fs::copy_file(dir / "b/checkpoint-000003.safetensors", dir / "a/checkpoint-000003.safetensors");
  Finished f = zoograd(dir, {"train", "--resume", "a", "--epochs", "5"});
  expect_one_line_refusal(f, "a/checkpoint-000003.safetensors belongs to run " + recorded_run_id(dir / "b") +
                                 ", not to run " + recorded_run_id(dir / "a") + " of run.json; the folder mixes two runs");
}

TEST(RunFolder, AStartThatFailsLeavesNoFolderBehind) {
  TempDir dir;
  Finished f = zoograd(dir, {"train", "--data", "idx:no,such,files,here", "--out", "run"});
  EXPECT_EQ(f.code, 1) << f.err;
  EXPECT_FALSE(fs::exists(dir / "run"));
  fs::create_directories(dir / "empty");
  EXPECT_EQ(zoograd(dir, {"train", "--data", "idx:no,such,files,here", "--out", "empty"}).code, 1);
  EXPECT_TRUE(fs::is_empty(dir / "empty")) << "no .lock left in a folder the run never used";
}

TEST(RunFolder, TemporaryFilesOfAKilledProcessAreRemovedWhenTheFolderIsOpened) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 1)).code, 0);
  for (const char* name : {".model.safetensors.tmp.AbCdEf", ".config.json.tmp.XyZ123"})
    std::ofstream(dir / ("run/" + std::string(name))) << "partial";
  ASSERT_EQ(zoograd(dir, {"train", "--resume", "run", "--epochs", "2"}).code, 0);
  for (const auto& entry : fs::directory_iterator(dir / "run"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

// A run folder written before run folders recorded their run still resumes, and is claimed.
TEST(RunFolder, AFolderWithoutRunJsonIsResumedAndAdoptsTheCheckpointsRun) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 1)).code, 0);
  const std::string id = recorded_run_id(dir / "run");
  fs::remove(dir / "run/run.json");
  EXPECT_TRUE(holds_run(dir / "run"));
  expect_one_line_refusal(zoograd(dir, blobs_run("run", 1)), "holds another run");
  ASSERT_EQ(zoograd(dir, {"train", "--resume", "run", "--epochs", "2"}).code, 0);
  EXPECT_EQ(recorded_run_id(dir / "run"), id);
}

// Issue example: --config naming a folder said "basic_filebuf::underflow error reading the file:
// Is a directory" with exit code 1.
TEST(RunFolder, ConfigNamingAFolderIsABadCommandLineNamingIt) {
  TempDir dir;
  ASSERT_EQ(zoograd(dir, blobs_run("run", 1)).code, 0);
  expect_one_line_refusal(zoograd(dir, {"train", "--config", "run"}),
                          "zoograd: run: is a folder, not a config file (pass the config.json inside it)");
  Finished replay = zoograd(dir, {"train", "--config", "run/config.json", "--out", "again"});
  EXPECT_EQ(replay.code, 0) << replay.err;
}

}  // namespace
