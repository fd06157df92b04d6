// zoograd: the command-line program. Results go to stdout; logs and progress to stderr.
// Exit codes: 0 success, 1 error, 2 bad command line or value (one line on stderr), 3 training
// diverged (a NaN or Inf), 128 + signal when SIGINT (130) or SIGTERM (143) stopped it.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <new>

#include "zoograd/datasets/registry.h"
#include "zoograd/train/run/blas_kernels.h"
#include "zoograd/core/kernels/parallel.h"
#include "zoograd/train/run/data_parallel.h"
#include "zoograd/train/run/demo.h"
#include "zoograd/train/run/distributed.h"
#include "zoograd/train/run/interrupt.h"
#include "zoograd/train/loss/loss_curve.h"
#include "zoograd/train/loss/loss_facts.h"
#include "zoograd/train/loss/explorer.h"
#include "zoograd/train/loss/loss_plot.h"
#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/atlas/margins_report.h"
#include "zoograd/train/run/progress.h"
#include "zoograd/train/loss/loss_tool.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/plot/report.h"
#include "zoograd/train/run/trainer.h"
#include "zoograd/train/run/values.h"

namespace {

// Flags read as text and converted through the door (train/run/values.h) once parsing is done, so a
// bad value is refused naming the flag, the value and the accepted range.
class DoorFlags {
 public:
  using Convert = std::function<void(const std::string& flag, const std::string& text)>;
  CLI::Option* add(CLI::App* cmd, const std::string& flag, const std::string& help, const std::string& default_text,
                   Convert convert) {
    std::string& text = texts_.emplace_back();
    CLI::Option* opt = cmd->add_option(flag, text, help)->default_str(default_text);
    conversions_.emplace_back(opt, [convert, flag, &text] { convert(flag, text); });
    return opt;
  }
  void apply() const {
    for (const auto& [opt, convert] : conversions_)
      if (opt->count() > 0) convert();
  }

 private:
  std::deque<std::string> texts_;  // stable addresses for CLI11 to write to
  std::vector<std::pair<CLI::Option*, std::function<void()>>> conversions_;
};

// The train command's flags, one per TrainSetting: after parsing, each flag given sets its setting
// through the same door as a config file's key.
struct TrainFlags {
  std::vector<std::pair<const zg::TrainSetting*, CLI::Option*>> flags;
  std::map<std::string, std::vector<std::string>> texts;

  void add(CLI::App* cmd) {
    for (const zg::TrainSetting& s : zg::train_settings()) {
      CLI::Option* opt;
      if (s.form == zg::TrainSetting::Form::Switch) {
        opt = cmd->add_flag(s.flag)->description(s.help);
      } else {
        opt = cmd->add_option(s.flag, texts[s.key], s.help);
        if (s.form == zg::TrainSetting::Form::List) opt->expected(1, 16)->delimiter(',');
        else if (s.form != zg::TrainSetting::Form::Params) opt->expected(1);
        std::string default_text;
        for (const std::string& t : s.get(zg::TrainConfig{})) default_text += (default_text.empty() ? "" : ",") + t;
        opt->default_str(default_text);
      }
      flags.emplace_back(&s, opt);
    }
  }
  void apply(zg::TrainConfig& c) const {
    for (const auto& [setting, opt] : flags)
      if (opt->count() > 0) setting->set(c, setting->flag, opt->results());
  }
};

// Under mpirun, an error every rank meets together (a bad setting, divergence, a signal) is
// reported by rank 0 alone; one a rank meets alone is reported with its rank, and ends the job,
// whose other ranks would otherwise wait for it forever.
bool quiet_rank() { return zg::world().distributed() && !zg::world().root(); }

int rank_failed(int code, const std::string& message) {
  if (!zg::world().distributed()) {
    std::fprintf(stderr, "zoograd: %s\n", message.c_str());
    return code;
  }
  std::fprintf(stderr, "zoograd (rank %d of %d): %s\n", zg::world().rank, zg::world().size, message.c_str());
  std::fflush(stderr);
  zg::abort_distributed(code);
}

int run_command(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  zg::restart_with_fitting_blas_kernels(argv);  // before anything runs: OpenBLAS may have misread the CPU
  const int code = run_command(argc, argv);
  zg::finalize_distributed();
  return code;
}

namespace {

int run_command(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("zoograd"));
  spdlog::set_pattern("%H:%M:%S %v");

  CLI::App app{"zoograd: a small deep-learning framework and its loss-function zoo"};
  app.require_subcommand(1);
  DoorFlags door;
  auto text = [](const auto& v) { return std::to_string(v); };
  auto real = [](double v) { return zg::number_text(v); };

  zg::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "train a small MLP on synthetic 2-D spirals and print its test accuracy");
  door.add(demo_cmd, "--epochs", "training epochs", text(demo.epochs),
           [&](auto& f, auto& t) { demo.epochs = zg::whole_in(f, t, zg::kEpochRange); });
  door.add(demo_cmd, "--hidden", "hidden units per layer", text(demo.hidden),
           [&](auto& f, auto& t) { demo.hidden = zg::whole_in(f, t, zg::ValueRange::whole(1, 4096)); });
  door.add(demo_cmd, "--lr", "peak learning rate", real(demo.lr),
           [&](auto& f, auto& t) { demo.lr = zg::number_in(f, t, zg::kLearningRateRange); });
  door.add(demo_cmd, "--momentum", "SGD momentum", real(demo.momentum),
           [&](auto& f, auto& t) { demo.momentum = zg::number_in(f, t, zg::kMomentumRange); });
  door.add(demo_cmd, "--seed", "random seed", text(demo.seed), [&](auto& f, auto& t) { demo.seed = zg::seed_from(f, t); });

  std::string config_file, resume_dir;
  CLI::App* train_cmd = app.add_subcommand("train", "train a classifier and write a run folder (metrics, model, report)");
  train_cmd->footer(
      "Under mpirun -np N (OpenMPI): data-parallel training of one model. Every rank takes its slice of each global "
      "batch of --batch-size samples, the gradients are averaged over the ranks, every rank takes the same step; rank 0 "
      "alone writes the run folder, and --resume works under any N. BatchNorm normalizes with each rank's own slice "
      "(per-rank statistics, as PyTorch's DistributedDataParallel); the running statistics saved and evaluated are "
      "rank 0's.");
  TrainFlags train_flags;
  train_flags.add(train_cmd);
  train_cmd->add_option("--resume", resume_dir, "continue the run saved in this folder (flags that contradict it are refused)");
  train_cmd->add_option("--config", config_file, "read settings from a config.json (flags given override it)");
  CLI::Option* overwrite = train_cmd->add_flag("--overwrite")
                              ->description("replace the run in --out (a folder holding files of anything else is "
                                            "never replaced)")
                              ->excludes("--resume");

  std::string eval_dir, eval_data;
  CLI::App* eval_cmd = app.add_subcommand("eval", "evaluate a trained run on a test set");
  eval_cmd->add_option("--model", eval_dir, "run folder written by zoograd train")->required();
  eval_cmd->add_option("--data", eval_data, "data set (default: the run's own)");

  zg::MarginsOptions margins;
  CLI::App* margins_cmd = app.add_subcommand(
      "margins", "train one network under each margin loss and draw the decision-boundary atlas (index.html)");
  margins_cmd->add_option("--data", margins.data, "mnist | mnist-digits | fashion-mnist | idx:... | folder:PATH (28x28-like images)")
      ->capture_default_str();
  std::string panel_names;
  for (const zg::MarginPanel& p : zg::margin_panels()) panel_names += (panel_names.empty() ? "" : ",") + p.name;
  margins_cmd->add_option("--losses", margins.losses, "panels to run, comma-separated: " + panel_names)
      ->delimiter(',');
  margins_cmd->add_option("--set", margins.set, "a panel's loss parameter, PANEL.key=value (repeatable)");
  door.add(margins_cmd, "--dim", "feature dimension, 2 or 3", text(margins.dim),
           [&](auto& f, auto& t) { margins.dim = zg::whole_in(f, t, zg::ValueRange::whole(2, 3)); });
  door.add(margins_cmd, "--epochs", "epochs per loss (default 6; 20 with --full, 2 with --quick)", "",
           [&](auto& f, auto& t) { margins.epochs = zg::whole_in(f, t, zg::kEpochRange); });
  margins_cmd->add_flag("--full", margins.full, "longer, sharper runs");
  margins_cmd->add_flag("--quick", margins.quick, "the live-lecture preset: softmax, SphereFace, CosFace and ArcFace only")
      ->excludes("--losses");
  door.add(margins_cmd, "--batch-size", "samples per step", text(margins.batch_size),
           [&](auto& f, auto& t) { margins.batch_size = zg::whole_in(f, t, zg::kSizeRange); });
  door.add(margins_cmd, "--lr", "peak learning rate (cosine schedule)", real(margins.lr),
           [&](auto& f, auto& t) { margins.lr = zg::number_in(f, t, zg::kLearningRateRange); });
  door.add(margins_cmd, "--weight-decay", "L2 penalty of SGD", real(margins.weight_decay),
           [&](auto& f, auto& t) { margins.weight_decay = zg::number_in(f, t, zg::kWeightDecayRange); });
  door.add(margins_cmd, "--clip-grad-norm",
           "NormFace, CosFace, ArcFace, combined: clip the gradient's global norm to this before each step (0: never)",
           real(margins.clip_grad_norm),
           [&](auto& f, auto& t) { margins.clip_grad_norm = zg::number_in(f, t, zg::kClipRange); });
  door.add(margins_cmd, "--seed", "random seed", text(margins.seed),
           [&](auto& f, auto& t) { margins.seed = zg::seed_from(f, t); });
  door.add(margins_cmd, "--seeds", "train every panel under N seeds (--seed, --seed + 1, ...); tables give mean ± sd",
           text(margins.seeds), [&](auto& f, auto& t) { margins.seeds = zg::whole_in(f, t, zg::ValueRange::whole(1, 100)); });
  door.add(margins_cmd, "--threads", "threads for the GEMMs and our loops (0: OPENBLAS_NUM_THREADS, else the cores)",
           text(margins.threads), [&](auto& f, auto& t) { margins.threads = zg::whole_in(f, t, zg::kThreadRange); });
  door.add(margins_cmd, "--jobs", "panels trained at once (0: one per core)", text(margins.jobs),
           [&](auto& f, auto& t) { margins.jobs = zg::whole_in(f, t, zg::kThreadRange); });
  margins_cmd->add_option("--out", margins.out, "report folder")->capture_default_str();
  margins_cmd->add_flag("--quiet", margins.quiet, "no progress or per-epoch lines");
  door.add(margins_cmd, "--snapshots", "moments of training per panel for the page's player", text(margins.snapshots),
           [&](auto& f, auto& t) { margins.snapshots = zg::whole_in(f, t, zg::ValueRange::whole(2, 100)); });

  CLI::App* info_cmd = app.add_subcommand("info", "the BLAS kernels in use (and why), the CPU's vectors, the thread count");

  CLI::App* data_cmd = app.add_subcommand("data", "the data sets zoograd knows");
  CLI::App* data_list = data_cmd->add_subcommand("list", "where each data set was found, its size, how to install it");
  data_cmd->require_subcommand(1);

  CLI::App* loss_cmd = app.add_subcommand(
      "loss", "the loss catalog: list the losses, evaluate one on JSON input, sweep one input, the papers' numbers, pictures");
  loss_cmd->require_subcommand(1);
  bool list_json = false, list_markdown = false;
  CLI::App* loss_list = loss_cmd->add_subcommand("list", "every loss with its family, inputs and parameters");
  loss_list->add_flag("--json", list_json, "print JSON instead of text");
  loss_list->add_flag("--markdown", list_markdown, "print the README's Markdown table")->excludes("--json");
  std::string plot_dir;
  zg::LossPlotOptions plot_options;
  std::vector<std::string> plot_formats;
  CLI::App* loss_plot = loss_cmd->add_subcommand(
      "plot", "draw the zoo's teaching pictures (SVG, PNG and PDF) and an index.html showing them");
  loss_plot->add_option("--out", plot_dir, "folder to write into (created if missing)")->required();
  std::string figure_names;
  for (const zg::LossFigureInfo& f : zg::loss_figures()) figure_names += (figure_names.empty() ? "" : ",") + f.name;
  loss_plot->add_option("--only", plot_options.only, "figures to draw, comma-separated: " + figure_names)->delimiter(',');
  loss_plot->add_option("--format", plot_formats, "svg | png | pdf, comma-separated (default: all three)")->delimiter(',');
  loss_plot->add_option("--set", plot_options.set, "a figure's setting, FIGURE.key=value (repeatable), e.g. focal_pt.gamma=3");
  loss_plot->add_option("--classes", plot_options.classes, "class counts C of NormFace's bound, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  std::string explore_dir;
  CLI::App* loss_explore = loss_cmd->add_subcommand(
      "explore", "write the interactive loss explorer: one self-contained HTML page running zoograd in the browser");
  loss_explore->add_option("--out", explore_dir, "folder to write index.html into (created if missing)")->required();
  zg::LossEvalRequest eval_req;
  CLI::App* loss_eval = loss_cmd->add_subcommand(
      "eval", "read {\"inputs\": {name: nested array}} on stdin; print the loss and the gradients of its sum "
              "(a non-finite number as the string \"inf\", \"-inf\" or \"nan\")");
  loss_eval->add_option("name", eval_req.name, "loss name (see zoograd loss list)")->required();
  loss_eval->add_option("--set", eval_req.set, "parameter, key=value (repeatable)");
  loss_eval->add_option("--reduction", eval_req.reduction, "none | mean | sum | batchmean")->capture_default_str();
  loss_eval->add_option("--dtype", eval_req.dtype, "float32 | float64")->capture_default_str();
  loss_eval->add_flag("--hessian-diag", eval_req.hessian_diag,
                      "also print the Hessian diagonal of the summed loss (closed form where losses/hessians.h has one, "
                      "with its largest difference from autograd's double backward)");
  std::int64_t facts_classes = 10, facts_dim = 2;
  bool facts_json = false;
  CLI::App* loss_facts = loss_cmd->add_subcommand(
      "facts", "the papers' teaching numbers computed by the library, beside the closed form, the paper's value and source");
  loss_facts->add_option("--classes", facts_classes, "number of classes C")->capture_default_str();
  loss_facts->add_option("--dim", facts_dim, "feature dimension d (for the margin bounds)")->capture_default_str();
  loss_facts->add_flag("--json", facts_json, "print JSON instead of text");
  zg::LossCurveRequest curve_req;
  CLI::App* loss_curve = loss_cmd->add_subcommand(
      "curve", "a loss, its gradient and its Hessian diagonal along one input element (CSV or SVG on stdout)");
  loss_curve->add_option("name", curve_req.name, "loss name (see zoograd loss list)")->required();
  loss_curve->add_option("--vary", curve_req.vary, "the element to sweep, INPUT[i,j,...], e.g. input[0,1]")->required();
  loss_curve->add_option("--from", curve_req.from, "first value")->capture_default_str();
  loss_curve->add_option("--to", curve_req.to, "last value")->capture_default_str();
  loss_curve->add_option("--points", curve_req.points, "number of values")->capture_default_str();
  loss_curve->add_option("--set", curve_req.set, "parameter, key=value (repeatable)");
  loss_curve->add_option("--reduction", curve_req.reduction, "none | mean | sum | batchmean")->capture_default_str();
  loss_curve->add_option("--format", curve_req.format, "csv | svg | png | pdf")->capture_default_str();
  loss_curve->add_option("--inputs", curve_req.inputs_file,
                         "JSON file {\"inputs\": {...}} as loss eval reads (default: the loss's sample inputs)");
  loss_curve->add_option("--seed", curve_req.seed, "seed of the sample inputs")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "zoograd: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    zg::init_distributed(argc, argv);
    if (zg::world().distributed() && !*train_cmd && !*margins_cmd)
      throw zg::UsageError("zoograd " + app.get_subcommands().at(0)->get_name() + " runs as one process; start it "
                           "without mpirun (train and margins spread their work over the ranks)");
  } catch (const zg::UsageError& e) {
    if (!quiet_rank()) std::fprintf(stderr, "zoograd: %s\n", e.what());
    return 2;
  }
  // The commands that run long or write files stop at a safe point on SIGINT or SIGTERM; the
  // others (reading stdin, printing) end at once, as a plain program would.
  if (*demo_cmd || *train_cmd || *margins_cmd || *loss_plot) zg::install_interrupt_handlers();
  try {
    door.apply();
    if (*demo_cmd) {
      std::printf("test accuracy: %.4f\n", zg::run_demo(demo));
    } else if (*train_cmd) {
      zg::TrainConfig config;
      try {  // a bad setting is a bad command line: exit 2, like an unknown flag
        if (!resume_dir.empty()) config = zg::resumed_config(resume_dir);  // its flags then say what to change
        if (!config_file.empty()) {
          zg::TrainConfig file = zg::TrainConfig::load(config_file);
          if (!resume_dir.empty()) file.out = resume_dir;
          config = file;
        }
        train_flags.apply(config);
        config.validate();
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd: %s\n", e.what());
        return 2;
      }
      zg::TrainResult r = zg::run_train(config, {.resume = resume_dir, .overwrite = overwrite->count() > 0});
      if (!quiet_rank()) std::printf("test accuracy: %.4f\nrun folder: %s\n", r.test_accuracy, r.run_dir.c_str());
    } else if (*margins_cmd) {
      try {
        margins.resolved_panels();
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd: %s\n", e.what());
        return 2;
      }
      zg::MarginsResult result = zg::run_margins(margins);
      if (quiet_rank()) return 0;  // rank 0 gathered the results and writes the report
      zg::write_margins_report(margins.out, margins, result);
      if (margins.seeds == 1) {
        std::printf("%-32s %9s %8s %8s\n", "loss", "accuracy", "margin", "seconds");
        for (const zg::PanelResult& r : result.panels)
          std::printf("%-32s %9.4f %8.1f %8.1f\n", r.panel.title.c_str(), r.test_accuracy, r.geometry.angular_margin,
                      r.seconds);
      } else {
        std::printf("%-32s %17s %15s   (mean ± sd over %lld seeds)\n", "loss", "accuracy", "margin",
                    static_cast<long long>(margins.seeds));
        for (std::size_t i = 0; i < result.panels.size(); ++i) {
          const zg::OverSeeds a = zg::over_seeds(result.seeds[i], &zg::SeedMeasures::test_accuracy);
          const zg::OverSeeds m = zg::over_seeds(result.seeds[i], &zg::SeedMeasures::angular_margin);
          std::printf("%-32s %8.4f ± %6.4f %7.1f ± %5.1f\n", result.panels[i].panel.title.c_str(), a.mean, a.sd, m.mean,
                      m.sd);
        }
      }
      std::printf("atlas of %zu losses in %s: open %s/index.html\n", result.panels.size(),
                  zg::format_duration(result.seconds).c_str(), margins.out.c_str());
    } else if (*eval_cmd) {
      std::vector<std::string> names;
      zg::Evaluation e = zg::run_eval(eval_dir, eval_data, &names);
      std::printf("test accuracy: %.4f\ntest loss: %.4f\nconfusion matrix (rows: true, columns: predicted):\n%s", e.accuracy,
                  e.loss, zg::confusion_text(e.confusion, names).c_str());
    } else if (*loss_list) {
      auto format = list_json ? zg::ListFormat::Json : list_markdown ? zg::ListFormat::Markdown : zg::ListFormat::Text;
      std::fputs(zg::loss_list(format).c_str(), stdout);
    } else if (*loss_eval) {
      try {  // bad JSON, shapes or parameters are a bad command: exit 2 with one line
        std::fputs(zg::loss_eval(eval_req, std::cin).c_str(), stdout);
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd loss eval: %s\n", e.what());
        return 2;
      }
    } else if (*loss_facts || *loss_curve) {
      try {  // a bad setting, element or range is a bad command: exit 2 with one line
        std::fputs((*loss_facts ? zg::loss_facts_text(zg::loss_facts(facts_classes, facts_dim), facts_json)
                                : zg::loss_curve(curve_req))
                       .c_str(),
                   stdout);
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd loss %s: %s\n", *loss_facts ? "facts" : "curve", e.what());
        return 2;
      }
    } else if (*loss_plot) {
      try {  // a bad figure, setting or format is a bad command line: exit 2 before anything is drawn
        if (!plot_formats.empty()) plot_options.formats.clear();
        for (const std::string& f : plot_formats) plot_options.formats.push_back(zg::parse_image_format(f));
        zg::resolved_loss_settings(plot_options);
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd loss plot: %s\n", e.what());
        return 2;
      }
      std::vector<std::string> files = zg::write_loss_plots(plot_dir, plot_options);
      std::printf("wrote %zu files to %s; open %s/index.html\n", files.size(), plot_dir.c_str(), plot_dir.c_str());
    } else if (*loss_explore) {
      std::printf("wrote %s; open it in any browser (no server needed)\n", zg::write_loss_explorer(explore_dir).c_str());
    } else if (*info_cmd) {
      std::printf("%sthreads: %d\n", zg::blas_kernels_report().c_str(), zg::get_num_threads());
    } else if (*data_list) {
      std::printf("%-14s %-10s %-12s %s\n", "name", "status", "size", "location / install");
      for (const zg::KnownDataset& d : zg::known_datasets()) {
        std::string status = d.synthetic ? "built-in" : d.location ? "found" : "missing";
        std::string size = d.location && !d.synthetic ? std::to_string(d.bytes / 1024) + " KiB" : "-";
        std::string where = d.synthetic ? d.description : d.location ? *d.location : "install: " + d.install;
        std::printf("%-14s %-10s %-12s %s\n", d.name.c_str(), status.c_str(), size.c_str(), where.c_str());
      }
    }
  } catch (const zg::RootFailed& e) {  // rank 0 reports it
    return e.code;
  } catch (const zg::UsageError& e) {
    if (!quiet_rank()) std::fprintf(stderr, "zoograd: %s\n", e.what());
    return 2;
  } catch (const zg::Interrupted& e) {
    if (!quiet_rank()) std::fprintf(stderr, "zoograd: %s\n", e.what());
    return 128 + e.signal;
  } catch (const zg::DivergenceError& e) {
    if (!quiet_rank()) std::fprintf(stderr, "zoograd: %s\n", e.what());
    return 3;
  } catch (const zg::AnomalyError& e) {
    return rank_failed(3, std::string("training diverged: ") + e.what());
  } catch (const std::bad_alloc&) {
    return rank_failed(1, "error: out of memory; lower the sizes (--hidden, --batch-size, ...)");
  } catch (const std::exception& e) {
    return rank_failed(1, std::string("error: ") + e.what());
  }
  if (int signal = zg::pending_interrupt()) {  // it came after the last safe point: the work is complete
    std::fflush(stdout);
    std::fprintf(stderr, "zoograd: interrupted by %s after the work was done; its output is complete\n",
                 zg::signal_name(signal).c_str());
    return 128 + signal;
  }
  return 0;
}

}  // namespace
