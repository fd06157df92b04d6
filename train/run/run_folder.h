#pragma once
// A run folder, and the one process that writes it.
// - It records which run it is: run.json holds the run's id from the first saved epoch on, and
//   the checkpoints and model.safetensors carry the same id in their metadata ("run").
// - A new run starts only in a missing or empty folder (a .lock and the temporary files of a killed
//   process do not count). A folder that holds a run is refused unless the caller asks to
//   overwrite it; a non-empty folder that holds no run is always refused, so nothing but a run's
//   own files is ever deleted.
// - A lock (flock on DIR/.lock) keeps a second process out. The OS releases it when the process
//   ends, however it ends, so a killed run never leaves a stale lock.
// - Opening a folder removes the temporary files (".NAME.tmp.XXXXXX") a killed process left.
#include <string>
#include <vector>

namespace zg {

class RunFolder {
 public:
  enum class Start {
    New,        // a missing or empty folder
    Overwrite,  // the same, or a folder holding a run, whose files are removed first
    Resume,     // an existing folder; the caller reads its checkpoint
  };
  // Creates the folder when missing (not for Resume), takes the lock, checks the contents.
  // Throws UsageError (exit code 2) naming the folder and the way out: --resume, another --out,
  // --overwrite, or waiting for the process that holds the lock.
  RunFolder(const std::string& dir, Start start);
  // Releases the lock. A folder in which no run was recorded is left as found: its .lock removed,
  // and the folder itself when this object created it.
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& path() const { return dir_; }
  // This run's id: the one recorded in run.json when resuming, else a new one.
  const std::string& id() const { return id_; }
  // Takes the id of the folder's checkpoints when no run.json records one (it is written first, but
  // a folder of an older zoograd has none).
  void adopt(const std::string& id) { id_ = id; }
  // Writes run.json (with the first epoch's files): from then on the folder holds this run.
  void record();

 private:
  void release();

  std::string dir_, id_;
  int lock_fd_ = -1;
  bool created_ = false, had_run_ = false, recorded_ = false;
};

// The id in dir/run.json; "" when there is none (a folder of an older zoograd, or no run).
// Throws naming the file when run.json exists but is damaged.
std::string recorded_run_id(const std::string& dir);

// Whether dir holds a run: run.json, a model.safetensors or a checkpoint.
bool holds_run(const std::string& dir);

}  // namespace zg
