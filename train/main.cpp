// zoograd: the command-line program. Results go to stdout; logs and progress to stderr.
// Exit codes: 0 success, 1 error, 2 bad command line, 3 training diverged (a NaN or Inf).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <exception>
#include <functional>

#include "datasets/registry.h"
#include "train/demo.h"
#include "train/explorer.h"
#include "train/loss_plot.h"
#include "train/margins.h"
#include "train/margins_report.h"
#include "train/progress.h"
#include "train/loss_tool.h"
#include "train/objective.h"
#include "train/report.h"
#include "train/trainer.h"

namespace {

// Binds a flag to a field of a scratch config; after parsing, only flags actually given
// override the defaults or the --config file.
struct FlagBinder {
  CLI::App* app;
  zg::TrainConfig& scratch;
  std::vector<std::pair<CLI::Option*, std::function<void(zg::TrainConfig&)>>> flags;

  template <class T>
  CLI::Option* add(const std::string& name, T zg::TrainConfig::*field, const std::string& help) {
    CLI::Option* opt = app->add_option(name, scratch.*field, help)->capture_default_str();
    flags.emplace_back(opt, [this, field](zg::TrainConfig& c) { c.*field = scratch.*field; });
    return opt;
  }
  void apply(zg::TrainConfig& c) const {
    for (const auto& [opt, set] : flags)
      if (opt->count() > 0) set(c);
  }
};

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("zoograd"));
  spdlog::set_pattern("%H:%M:%S %v");

  CLI::App app{"zoograd: a small deep-learning framework and its loss-function zoo"};
  app.require_subcommand(1);

  zg::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "train a small MLP on synthetic 2-D spirals and print its test accuracy");
  demo_cmd->add_option("--epochs", demo.epochs, "training epochs")->capture_default_str()->check(CLI::PositiveNumber);
  demo_cmd->add_option("--hidden", demo.hidden, "hidden units per layer")->capture_default_str()->check(CLI::PositiveNumber);
  demo_cmd->add_option("--lr", demo.lr, "peak learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  demo_cmd->add_option("--momentum", demo.momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  demo_cmd->add_option("--seed", demo.seed, "random seed")->capture_default_str();

  zg::TrainConfig scratch;
  std::string config_file, resume_dir;
  CLI::App* train_cmd = app.add_subcommand("train", "train a classifier and write a run folder (metrics, model, report)");
  FlagBinder bind{train_cmd, scratch, {}};
  bind.add("--data", &zg::TrainConfig::data,
           "fashion-mnist | mnist-digits | moons | spirals | blobs | idx:TRAIN_IMG,TRAIN_LBL,TEST_IMG,TEST_LBL | folder:PATH");
  bind.add("--model", &zg::TrainConfig::model, "mlp | cnn (LeNet-style)");
  bind.add("--hidden", &zg::TrainConfig::hidden, "mlp hidden widths, e.g. --hidden 512 256")->expected(1, 16)->delimiter(',');
  std::string loss_names;
  for (const std::string& n : zg::Objective::names()) loss_names += (loss_names.empty() ? "" : " | ") + n;
  bind.add("--loss", &zg::TrainConfig::loss, loss_names + " (see zoograd loss list)");
  std::vector<std::string> loss_settings;
  CLI::Option* set_opt = train_cmd->add_option("--set", loss_settings, "loss parameter, key=value (repeatable)");
  bind.add("--embedding-dim", &zg::TrainConfig::embedding_dim, "features before the head of an angular loss");
  bind.add("--epochs", &zg::TrainConfig::epochs, "epochs in total (with --resume: the new total)");
  bind.add("--batch-size", &zg::TrainConfig::batch_size, "samples per step");
  bind.add("--lr", &zg::TrainConfig::lr, "learning rate");
  bind.add("--momentum", &zg::TrainConfig::momentum, "SGD momentum");
  bind.add("--weight-decay", &zg::TrainConfig::weight_decay, "L2 weight decay");
  bind.add("--schedule", &zg::TrainConfig::schedule,
           "constant | step:S[:G] | multistep:M1,M2[:G] | cosine:T[:MIN], optionally +warmup:W");
  bind.add("--seed", &zg::TrainConfig::seed, "random seed (initial weights, shuffling, data split)");
  bind.add("--threads", &zg::TrainConfig::threads, "threads for the GEMMs and our loops (0: OPENBLAS_NUM_THREADS, else the cores)");
  bind.add("--out", &zg::TrainConfig::out, "run folder (default runs/<data>-<model>[-N])");
  train_cmd->add_flag("--quiet", scratch.quiet, "no progress or per-epoch lines");
  train_cmd->add_flag("--detect-anomaly", scratch.detect_anomaly,
                      "check every op's output and gradient for NaN/Inf and name the first (slow)");
  train_cmd->add_option("--resume", resume_dir, "continue the run saved in this folder");
  train_cmd->add_option("--config", config_file, "read settings from a config.json (flags given override it)");

  std::string eval_dir, eval_data;
  CLI::App* eval_cmd = app.add_subcommand("eval", "evaluate a trained run on a test set");
  eval_cmd->add_option("--model", eval_dir, "run folder written by zoograd train")->required();
  eval_cmd->add_option("--data", eval_data, "data set (default: the run's own)");

  zg::MarginsOptions margins;
  CLI::App* margins_cmd = app.add_subcommand(
      "margins", "train one network under each margin loss and draw the decision-boundary atlas (index.html)");
  margins_cmd->add_option("--data", margins.data, "mnist-digits | fashion-mnist | idx:... | folder:PATH (28x28-like images)")
      ->capture_default_str();
  std::string panel_names;
  for (const zg::MarginPanel& p : zg::margin_panels()) panel_names += (panel_names.empty() ? "" : ",") + p.name;
  margins_cmd->add_option("--losses", margins.losses, "panels to run, comma-separated: " + panel_names)
      ->delimiter(',');
  margins_cmd->add_option("--set", margins.set, "a panel's loss parameter, PANEL.key=value (repeatable)");
  margins_cmd->add_option("--dim", margins.dim, "feature dimension, 2 or 3")->capture_default_str();
  margins_cmd->add_option("--epochs", margins.epochs, "epochs per loss (default 6; 30 with --full)");
  margins_cmd->add_flag("--full", margins.full, "longer, sharper runs");
  margins_cmd->add_option("--batch-size", margins.batch_size, "samples per step")->capture_default_str();
  margins_cmd->add_option("--lr", margins.lr, "peak learning rate (cosine schedule)")->capture_default_str();
  margins_cmd->add_option("--weight-decay", margins.weight_decay, "L2 penalty of SGD")->capture_default_str();
  margins_cmd->add_option("--seed", margins.seed, "random seed")->capture_default_str();
  margins_cmd->add_option("--threads", margins.threads, "threads for the GEMMs and our loops (0: OPENBLAS_NUM_THREADS, else the cores)")->capture_default_str();
  margins_cmd->add_option("--jobs", margins.jobs, "panels trained at once (0: one per core)")->capture_default_str();
  margins_cmd->add_option("--out", margins.out, "report folder")->capture_default_str();
  margins_cmd->add_flag("--quiet", margins.quiet, "no progress or per-epoch lines");
  margins_cmd->add_option("--snapshots", margins.snapshots, "moments of training per panel for the page's player")
      ->capture_default_str();

  CLI::App* data_cmd = app.add_subcommand("data", "the data sets zoograd knows");
  CLI::App* data_list = data_cmd->add_subcommand("list", "where each data set was found, its size, how to install it");
  data_cmd->require_subcommand(1);

  CLI::App* loss_cmd = app.add_subcommand("loss", "the loss catalog: list the losses, evaluate one on JSON input, draw their pictures");
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
      "eval", "read {\"inputs\": {name: nested array}} on stdin; print the loss and the gradients of its sum");
  loss_eval->add_option("name", eval_req.name, "loss name (see zoograd loss list)")->required();
  loss_eval->add_option("--set", eval_req.set, "parameter, key=value (repeatable)");
  loss_eval->add_option("--reduction", eval_req.reduction, "none | mean | sum | batchmean")->capture_default_str();
  loss_eval->add_option("--dtype", eval_req.dtype, "float32 | float64")->capture_default_str();
  loss_eval->add_flag("--hessian-diag", eval_req.hessian_diag, "also print the Hessian diagonal of the summed loss");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "zoograd: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    if (*demo_cmd) {
      std::printf("test accuracy: %.4f\n", zg::run_demo(demo));
    } else if (*train_cmd) {
      zg::TrainConfig config;
      try {  // a bad setting is a bad command line: exit 2, like an unknown flag
        config = config_file.empty() ? zg::TrainConfig{} : zg::TrainConfig::load(config_file);
        bind.apply(config);
        if (train_cmd->count("--quiet")) config.quiet = scratch.quiet;
        if (train_cmd->count("--detect-anomaly")) config.detect_anomaly = scratch.detect_anomaly;
        if (set_opt->count() > 0) config.loss_params = zg::parse_loss_settings(loss_settings);
        config.validate();
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd: %s\n", e.what());
        return 2;
      }
      zg::TrainResult r = zg::run_train(config, resume_dir);
      std::printf("test accuracy: %.4f\nrun folder: %s\n", r.test_accuracy, r.run_dir.c_str());
    } else if (*margins_cmd) {
      try {
        margins.resolved_panels();
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "zoograd: %s\n", e.what());
        return 2;
      }
      zg::MarginsResult result = zg::run_margins(margins);
      zg::write_margins_report(margins.out, margins, result);
      std::printf("%-32s %9s %8s %8s\n", "loss", "accuracy", "margin", "seconds");
      for (const zg::PanelResult& r : result.panels)
        std::printf("%-32s %9.4f %8.1f %8.1f\n", r.panel.title.c_str(), r.test_accuracy, r.geometry.angular_margin,
                    r.seconds);
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
    } else if (*data_list) {
      std::printf("%-14s %-10s %-12s %s\n", "name", "status", "size", "location / install");
      for (const zg::KnownDataset& d : zg::known_datasets()) {
        std::string status = d.synthetic ? "built-in" : d.location ? "found" : "missing";
        std::string size = d.location && !d.synthetic ? std::to_string(d.bytes / 1024) + " KiB" : "-";
        std::string where = d.synthetic ? d.description : d.location ? *d.location : "install: " + d.install;
        std::printf("%-14s %-10s %-12s %s\n", d.name.c_str(), status.c_str(), size.c_str(), where.c_str());
      }
    }
  } catch (const zg::DivergenceError& e) {
    std::fprintf(stderr, "zoograd: %s\n", e.what());
    return 3;
  } catch (const zg::AnomalyError& e) {
    std::fprintf(stderr, "zoograd: training diverged: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zoograd: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
