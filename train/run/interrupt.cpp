#include "zoograd/train/run/interrupt.h"

#include <atomic>
#include <csignal>

namespace zg {

namespace {

// Lock-free, so the handler may write it and the panels' threads read it.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void record_signal(int signal) { g_signal = signal; }

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a write or read under way continues rather than failing with EINTR; SA_RESETHAND:
  // the next signal of the kind takes its default action (ends the process).
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int pending_interrupt() { return g_signal.load(); }

void set_pending_interrupt(int signal) { g_signal = signal; }

std::string signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal " + std::to_string(signal);
}

void stop_if_interrupted(const std::string& detail) {
  if (int s = g_signal.load()) throw Interrupted(s, "interrupted by " + signal_name(s) + detail);
}

}  // namespace zg
