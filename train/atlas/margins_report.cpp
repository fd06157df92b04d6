#include "zoograd/train/atlas/margins_report.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <exception>
#include <functional>
#include <numbers>
#include <thread>

#include "zoograd/train/atlas/atlas_figures.h"
#include "zoograd/train/plot/html.h"
#include "zoograd/train/plot/report.h"

namespace zg {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDefaultAzimuth = 30;
constexpr int kRotations = 12;  // the sphere's rotation control: every 30°

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string two_digits(std::size_t i) {
  return (i < 10 ? "0" : "") + std::to_string(i);
}

// The report's figures, drawn and written on `threads` threads (each figure alone on one) once
// all are queued: every format, or only PNG for a frame of the page's player. The file names come
// out in the order the figures were queued.
class FigureQueue {
 public:
  void add(std::function<Figure()> draw, std::string stem, bool page_only = false) {
    jobs_.push_back({std::move(draw), std::move(stem), page_only});
  }
  std::vector<std::string> write(const std::string& dir, std::int64_t threads) {
    std::vector<std::vector<std::string>> names(jobs_.size());
    std::vector<std::exception_ptr> errors(jobs_.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t i; (i = next++) < jobs_.size();) {
        try {
          const Job& job = jobs_[i];
          names[i] = save_figure(job.draw(), dir, job.stem, job.page_only ? std::vector{ImageFormat::png} : kAllFormats);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    };
    {
      std::vector<std::jthread> pool;
      for (std::int64_t t = 1; t < std::min<std::int64_t>(threads, static_cast<std::int64_t>(jobs_.size())); ++t)
        pool.emplace_back(worker);
      worker();
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    std::vector<std::string> files;
    for (const std::vector<std::string>& n : names) files.insert(files.end(), n.begin(), n.end());
    return files;
  }

 private:
  struct Job {
    std::function<Figure()> draw;
    std::string stem;
    bool page_only;
  };
  std::vector<Job> jobs_;
};

// Why the panels' margins are small: the bounds that C classes on a circle set, with their numbers.
std::string margin_bounds_html(std::size_t classes, std::int64_t dim) {
  const double delta = 360.0 / static_cast<double>(std::max<std::size_t>(classes, 2));
  const double rad = delta * kPi / 180;
  std::string n = std::to_string(classes);
  return "<p>Why the margins are smaller than the papers': " + n + " classes share the circle, so neighbouring "
         "class weights are at best Δ = " + fixed(delta, 1) + "° apart, and a margin must fit inside Δ. A feature θ "
         "from its own weight and Δ − θ from its neighbour's still wins with the margin when cos(θ + m) &gt; "
         "cos(Δ − θ) (ArcFace: θ &lt; (Δ − m)/2, so m &lt; Δ = " + fixed(rad, 2) + " rad), cos θ − m &gt; cos(Δ − θ) "
         "(CosFace: m &lt; 1 − cos Δ = " + fixed(1 - std::cos(rad), 3) + " even at θ = 0), or cos(mθ) &gt; cos(Δ − θ) "
         "(SphereFace and L-Softmax once λ is 0: θ &lt; Δ/(m + 1) = " + fixed(delta / 5, 1) + "° for m = 4). The "
         "panels keep well inside these bounds, so that every class keeps an arc to converge into; SphereFace and "
         "the L-Softmax panels anneal λ down to 5 (SphereFace's setting), which blends cos θ into ψ(θ)." +
         (dim == 2 ? std::string() : " In " + std::to_string(dim) + "-D the classes have more room than this.") +
         "</p>\n";
}

// The table of measures, one row per panel.
// A measure's cell: the value, or with several seeds its mean ± sd, the seeds' values on hover.
std::string measure_cell(const std::vector<SeedMeasures>& runs, double SeedMeasures::*measure, int digits) {
  const OverSeeds o = over_seeds(runs, measure);
  if (o.values.size() == 1) return "<td>" + fixed(o.mean, digits) + "</td>";
  std::string each;
  for (double v : o.values) each += (each.empty() ? "" : ", ") + fixed(v, digits);
  return "<td title=\"each seed: " + each + "\">" + fixed(o.mean, digits) + " ± " + fixed(o.sd, digits) + "</td>";
}

std::string table_html(const MarginsResult& result) {
  std::string rows;
  for (std::size_t i = 0; i < result.panels.size(); ++i) {
    const std::vector<SeedMeasures>& runs = result.seeds.at(i);
    rows += "<tr><td>" + xml_escape(result.panels[i].panel.title) + "</td>" +
            measure_cell(runs, &SeedMeasures::test_accuracy, 4) + measure_cell(runs, &SeedMeasures::mean_own_angle, 1) +
            measure_cell(runs, &SeedMeasures::p95_own_angle, 1) + measure_cell(runs, &SeedMeasures::min_weight_angle, 1) +
            measure_cell(runs, &SeedMeasures::angular_margin, 1) + measure_cell(runs, &SeedMeasures::margin95, 1) +
            measure_cell(runs, &SeedMeasures::mean_feature_norm, 2) +
            measure_cell(runs, &SeedMeasures::seconds, 1) + "</tr>\n";
  }
  const std::size_t seeds = result.seeds.empty() ? 1 : result.seeds[0].size();
  return (seeds > 1 ? "<p>Each figure is the mean ± standard deviation over " + std::to_string(seeds) +
                          " seeds (hover for each seed's value); the pictures show the first seed.</p>\n"
                    : std::string()) +
         "<table><tr><th>loss</th><th>test accuracy</th><th>mean θ<sub>own</sub></th><th>95th pct θ<sub>own</sub>"
         "</th><th>min angle between weights</th><th>angular margin (98% arcs)</th><th>smallest gap of the 95% arcs</th>"
         "<th>mean ‖x‖</th><th>seconds</th></tr>\n" +
         rows + "</table>\n";
}

std::string figure_html(const std::string& stem, const std::string& alt, const std::string& id = "") {
  return "<figure><img " + (id.empty() ? "" : "id=\"" + id + "\" ") + "src=\"" + stem + ".png\" alt=\"" +
         xml_escape(alt) + "\"><figcaption>" + xml_escape(stem) + ": " + format_links(stem, kAllFormats) +
         "</figcaption></figure>\n";
}

// The player: a slider over the snapshots and a play button that move every comparison image
// (ids → frame-file prefixes) through training together; the last position shows the final
// figures. With rotation, a second slider turns the spheres.
std::string player_html(const MarginsResult& result, const std::vector<std::pair<std::string, std::string>>& images,
                        bool rotation) {
  const std::vector<Snapshot>& snaps = result.panels.at(0).snapshots;
  const std::int64_t steps = result.panels.at(0).steps;
  const double epochs = result.panels[0].curves.empty() ? 1 : result.panels[0].curves.back().at("epoch").get<double>();
  std::string frames, ids;
  for (const Snapshot& s : snaps)
    frames += std::string(frames.empty() ? "" : ",") + "[" + std::to_string(s.step) + "," +
              fixed(steps > 0 ? epochs * static_cast<double>(s.step) / static_cast<double>(steps) : 0, 2) + "]";
  for (const auto& [id, prefix] : images) ids += std::string(ids.empty() ? "" : ",") + "[\"" + id + "\",\"" + prefix + "\"]";
  std::string html =
      "<div class=\"player\"><button id=\"play\" type=\"button\">▶ play training</button> "
      "<input id=\"time\" type=\"range\" min=\"0\" max=\"" + std::to_string(snaps.size() - 1) + "\" value=\"" +
      std::to_string(snaps.size() - 1) + "\" step=\"1\" aria-label=\"training time\"> "
      "<output id=\"time-label\">end of training</output></div>\n";
  if (rotation)
    html += "<div class=\"player\"><label for=\"rotate\">rotate the spheres</label> <input id=\"rotate\" type=\"range\" "
            "min=\"0\" max=\"" + std::to_string(kRotations - 1) + "\" value=\"1\" step=\"1\"> <output id=\"rotate-label\">"
            "azimuth 30°</output></div>\n";
  html += "<script>\n(() => {\nconst frames = [" + frames + "], images = [" + ids + "], steps = " +
          std::to_string(steps) + ";\n" + R"(const last = frames.length - 1;
const time = document.getElementById("time"), label = document.getElementById("time-label");
const pad = i => String(i).padStart(2, "0");
const show = i => {
  for (const [id, prefix] of images) document.getElementById(id).src = i === last ? id.replace("cmp-", "") + ".png" : "frame_" + prefix + "_" + pad(i) + ".png";
  label.textContent = i === last ? "end of training" : "step " + frames[i][0] + " of " + steps + " (epoch " + frames[i][1] + "), 1000 test images";
  document.dispatchEvent(new Event("zg-drawn"));
};
time.addEventListener("input", () => show(Number(time.value)));
let timer = null;
const play = document.getElementById("play");
const stop = () => { clearInterval(timer); timer = null; play.textContent = "▶ play training"; };
play.addEventListener("click", () => {
  if (timer) return stop();
  if (Number(time.value) === last) time.value = 0;
  show(Number(time.value));
  play.textContent = "⏸ pause";
  timer = setInterval(() => {
    time.value = Number(time.value) + 1;
    show(Number(time.value));
    if (Number(time.value) === last) stop();
  }, 700);
});
const rotate = document.getElementById("rotate");
if (rotate) rotate.addEventListener("input", () => {
  const k = Number(rotate.value);
  time.value = last;
  label.textContent = "end of training";
  document.getElementById("cmp-spheres").src = "frame_rotate_" + pad(k) + ".png";
  document.getElementById("rotate-label").textContent = "azimuth " + 30 * k + "°";
  document.dispatchEvent(new Event("zg-drawn"));
});
})();
</script>
)";
  return html;
}

}  // namespace

// Each class's 95% arc (2-D) or cap (3-D) with the gaps to its neighbours, in degrees.
nlohmann::json arcs95_json(const FeatureGeometry& g) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t k = 0; k < g.arcs95.size(); ++k) {
    const ClassArc& a = g.arcs95[k];
    const ClassArc& previous = g.arcs95[(k + g.arcs95.size() - 1) % g.arcs95.size()];
    out.push_back({{"class", a.cls}, {"start", a.start_deg}, {"end", a.end_deg}, {"width", a.width_deg},
                   {"gap_previous", g.arcs95.size() > 1 ? previous.gap_next_deg : 0.0},
                   {"gap_next", a.gap_next_deg}});
  }
  for (const ClassCap& c : g.caps95)
    out.push_back({{"class", c.cls}, {"radius", c.radius_deg}, {"nearest", c.nearest}, {"gap_nearest", c.gap_deg}});
  return out;
}

// The per-class table of a panel's 95% arcs: extent and the gaps to both neighbours.
std::string arcs95_html(const FeatureGeometry& g, const std::vector<std::string>& names) {
  auto name = [&](std::int64_t c) { return xml_escape(c < static_cast<std::int64_t>(names.size()) ? names[c] : std::to_string(c)); };
  std::string rows;
  for (std::size_t k = 0; k < g.arcs95.size() && g.arcs95.size() > 1; ++k) {
    const ClassArc& a = g.arcs95[k];
    const std::size_t prev = (k + g.arcs95.size() - 1) % g.arcs95.size(), next = (k + 1) % g.arcs95.size();
    rows += "<tr><td>" + name(a.cls) + "</td><td>" + fixed(a.width_deg, 1) + "</td><td>" + name(g.arcs95[prev].cls) +
            ": " + fixed(g.arcs95[prev].gap_next_deg, 1) + "</td><td>" + name(g.arcs95[next].cls) + ": " +
            fixed(a.gap_next_deg, 1) + "</td></tr>";
  }
  if (rows.empty()) return "";
  return "<table class=\"arcs\"><tr><th>class</th><th>95% arc (°)</th><th>gap to the previous (°)</th>"
         "<th>gap to the next (°)</th></tr>" + rows + "</table>\n";
}

nlohmann::json margins_summary(const MarginsOptions& o, const MarginsResult& result) {
  nlohmann::json panels = nlohmann::json::array();
  for (std::size_t i = 0; i < result.panels.size(); ++i) {
    const PanelResult& r = result.panels[i];
    const FeatureGeometry& g = r.geometry;
    nlohmann::json snapshots = nlohmann::json::array();
    for (const Snapshot& s : r.snapshots) snapshots.push_back({{"step", s.step}, {"accuracy", s.accuracy}});
    panels.push_back({{"name", r.panel.name},
                      {"title", r.panel.title},
                      {"loss", r.panel.loss},
                      {"params", r.panel.params},
                      {"test_accuracy", r.test_accuracy},
                      {"mean_own_angle", g.mean_own_angle},
                      {"p95_own_angle", g.p95_own_angle},
                      {"min_weight_angle", g.min_weight_angle},
                      {"angular_margin", g.angular_margin},
                      {"margin95", g.margin95},
                      {"arcs95", arcs95_json(g)},
                      {"mean_feature_norm", g.mean_feature_norm},
                      {"seconds", r.seconds},
                      {"curves", r.curves},
                      {"snapshots", snapshots}});
    // Every seed's measures, and each measure's mean and sd over them (the fields above: the first seed).
    nlohmann::json each = nlohmann::json::array(), summary = nlohmann::json::object();
    for (const SeedMeasures& m : result.seeds.at(i))
      each.push_back({{"seed", m.seed}, {"test_accuracy", m.test_accuracy}, {"mean_own_angle", m.mean_own_angle},
                      {"p95_own_angle", m.p95_own_angle}, {"min_weight_angle", m.min_weight_angle},
                      {"angular_margin", m.angular_margin}, {"margin95", m.margin95},
                      {"mean_feature_norm", m.mean_feature_norm},
                      {"seconds", m.seconds}});
    for (const auto& [name, measure] : std::vector<std::pair<const char*, double SeedMeasures::*>>{
             {"test_accuracy", &SeedMeasures::test_accuracy}, {"mean_own_angle", &SeedMeasures::mean_own_angle},
             {"p95_own_angle", &SeedMeasures::p95_own_angle}, {"min_weight_angle", &SeedMeasures::min_weight_angle},
             {"angular_margin", &SeedMeasures::angular_margin}, {"margin95", &SeedMeasures::margin95},
             {"mean_feature_norm", &SeedMeasures::mean_feature_norm}}) {
      const OverSeeds spread = over_seeds(result.seeds.at(i), measure);
      summary[name] = {{"mean", spread.mean}, {"sd", spread.sd}, {"values", spread.values}};
    }
    panels.back()["seeds"] = each;
    panels.back()["over_seeds"] = summary;
    if (const std::optional<LambdaSchedule>& a = r.panel.anneal)
      panels.back()["lambda_schedule"] = {
          {"base", a->base}, {"gamma", a->gamma}, {"power", a->power}, {"lambda_min", a->lambda_min}};
  }
  return {{"settings",
           {{"data", o.data}, {"dim", o.dim}, {"epochs", o.epochs_to_run()}, {"batch_size", o.batch_size},
            {"lr", o.lr}, {"weight_decay", o.weight_decay}, {"clip_grad_norm", o.clip_grad_norm}, {"seed", o.seed},
            {"seeds", o.seeds}, {"threads", o.threads}, {"jobs", o.jobs_to_run()}, {"snapshots", o.snapshots}, {"snapshot_samples", o.snapshot_samples}}},
          {"panels", panels},
          {"seconds", result.seconds}};
}

std::vector<std::string> write_margins_report(const std::string& dir, const MarginsOptions& o,
                                              const MarginsResult& result) {
  fs::create_directories(dir);
  FigureQueue queue;
  const std::vector<std::string>& names = result.class_names;
  std::vector<AtlasView> finals;
  for (const PanelResult& r : result.panels) finals.push_back(final_view(r));

  // The comparison figures, their frames through training, and (3-D) the turned spheres.
  std::string comparison;
  const std::size_t frames = result.panels.empty() ? 0 : result.panels[0].snapshots.size();
  auto frame_views = [&](std::size_t k) {
    std::vector<AtlasView> views;
    for (const PanelResult& r : result.panels) views.push_back(snapshot_view(r, r.snapshots.at(k)));
    return views;
  };
  if (o.dim == 2) {
    queue.add([&] {
      return comparison_figure("Every loss on the unit circle: the shading shows where each class meets its margin",
                               finals, AtlasViewKind::circle, names);
    }, "circles");
    queue.add([&] {
      return comparison_figure("Every loss in the raw feature plane, with the head's decision regions", finals,
                               AtlasViewKind::plane, names);
    }, "planes");
    for (std::size_t k = 0; k + 1 < frames; ++k) {
      queue.add([&, k] {
        return comparison_figure("Every loss on the unit circle, during training", frame_views(k), AtlasViewKind::circle,
                                 names);
      }, "frame_circles_" + two_digits(k), true);
      queue.add([&, k] {
        return comparison_figure("Every loss in the raw feature plane, during training", frame_views(k),
                                 AtlasViewKind::plane, names);
      }, "frame_planes_" + two_digits(k), true);
    }
    queue.add([&] { return arcs95_comparison_figure(result, names); }, "arcs95");
    comparison = player_html(result, {{"cmp-circles", "circles"}, {"cmp-planes", "planes"}}, false) +
                 figure_html("circles", "every loss on the unit circle", "cmp-circles") +
                 figure_html("planes", "every loss in the feature plane", "cmp-planes") +
                 figure_html("arcs95", "the arcs holding 95% of each class, and the gaps between them");
  } else {
    queue.add([&] {
      return comparison_figure("Every loss on the unit sphere", finals, AtlasViewKind::sphere, names, kDefaultAzimuth);
    }, "spheres");
    for (std::size_t k = 0; k + 1 < frames; ++k)
      queue.add([&, k] {
        return comparison_figure("Every loss on the unit sphere, during training", frame_views(k), AtlasViewKind::sphere,
                                 names, kDefaultAzimuth);
      }, "frame_spheres_" + two_digits(k), true);
    for (int k = 0; k < kRotations; ++k)
      queue.add([&, k] {
        return comparison_figure("Every loss on the unit sphere", finals, AtlasViewKind::sphere, names, 30.0 * k);
      }, "frame_rotate_" + two_digits(static_cast<std::size_t>(k)), true);
    comparison = player_html(result, {{"cmp-spheres", "spheres"}}, true) +
                 figure_html("spheres", "every loss on the unit sphere", "cmp-spheres");
  }
  queue.add([&] { return angle_comparison_figure(result); }, "angles");
  comparison += figure_html("angles", "angle histograms of every loss");

  std::string sections;
  for (std::size_t i = 0; i < result.panels.size(); ++i) {
    const PanelResult& r = result.panels[i];
    const std::string& n = r.panel.name;
    sections += "<h2 id=\"" + n + "\">" + xml_escape(r.panel.title) + "</h2>\n<div class=\"row\">";
    if (o.dim == 2) {
      queue.add([&, i] { return feature_plane_figure(finals[i], names); }, n + "_features");
      queue.add([&, i] { return unit_circle_figure(finals[i], names); }, n + "_circle");
      sections += figure_html(n + "_features", "features") + figure_html(n + "_circle", "unit circle");
    } else {
      queue.add([&, i] { return unit_sphere_figure(finals[i], names, kDefaultAzimuth); }, n + "_sphere");
      sections += figure_html(n + "_sphere", "unit sphere");
    }
    queue.add([&result, i] { return angle_histogram_figure(result.panels[i]); }, n + "_angles");
    queue.add([&result, i] { return training_curves_figure(result.panels[i]); }, n + "_curves");
    sections += figure_html(n + "_angles", "angles") + figure_html(n + "_curves", "training curves") + "</div>\n" +
                arcs95_html(r.geometry, names);
  }
  std::vector<std::string> files = queue.write(dir, o.jobs_to_run());
  nlohmann::json summary = margins_summary(o, result);
  write_file((fs::path(dir) / "summary.json").string(), summary.dump(2) + "\n");
  files.push_back("summary.json");

  const std::string look =
      o.dim == 2
          ? "<p>What to look at: on the unit circle (top), plain softmax spreads each class over a wide, "
            "overlapping fan, while the margin losses pull each class into a tight arc around its weight, with gaps "
            "between neighbours. The dark shading is where a feature still wins with its loss's margin applied (from "
            "the loss's own target-logit transform); the pale shading where the head predicts the class but the "
            "margin is not met. Without a margin (softmax, modified softmax, NormFace) the two coincide. Press play to "
            "watch the arcs form. Points are spread radially by ±6% (seeded) so that dense arcs show their density. "
            "In the feature plane, softmax features grow in norm along their weight; normalized losses put the "
            "information in the angle.</p>\n"
          : "<p>What to look at: on the sphere, the margin losses gather each class into a tight cap around its "
            "weight. Turn the spheres with the rotation slider; press play to watch training.</p>\n";
  const std::string html =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>zoograd margins</title>\n<style>" + page_style() +
      ".player{display:flex;align-items:center;gap:10px;margin:0.5em 0}.player input{width:420px}</style></head>\n"
      "<body>\n<h1>The margin atlas</h1>\n<p>The same network (same initial weights, same batches) trained under "
      "each loss on " + xml_escape(o.data) + " with " + std::to_string(o.dim) + "-D features (seed " +
      std::to_string(o.seed) + ", " + std::to_string(o.epochs_to_run()) + " epochs), finished in " +
      fixed(result.seconds, 1) + " s. Settings: " + xml_escape(summary["settings"].dump()) + ".</p>\n" + look +
      comparison +
      "<h2>Measures</h2>\n<p>Angles are in degrees. θ<sub>own</sub>: the angle between a test feature and its class's "
      "weight. Angular margin: the smallest gap between the angular extents (98% of the features) of neighbouring "
      "classes on the circle. The 95% arcs are the papers' reading: each class's extent holding 95% of its features, "
      "and its gap to each neighbour (figure above; per class under each loss below). A negative gap means the two "
      "neighbours' arcs overlap by that many degrees: some features of one class lie inside the other's extent, so "
      "no gap separates them yet.</p>\n" +
      margin_bounds_html(names.size(), o.dim) + table_html(result) + sections + page_check_script() + "</body></html>\n";
  write_file((fs::path(dir) / "index.html").string(), html);
  files.push_back("index.html");
  return files;
}

}  // namespace zg
