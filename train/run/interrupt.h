#pragma once
// Ctrl-C (SIGINT) and SIGTERM. The handler only records the signal; the long loops (training
// steps, the atlas's panels, the demo's epochs) look at it at their safe points and stop there by
// throwing Interrupted, so no file is left half-written. A second signal of the same kind ends the
// process at once, as it would have without the handler.
#include <stdexcept>
#include <string>

namespace zg {

// Stops a run at a safe point; the command line exits with 128 + signal (130 for SIGINT, 143 for
// SIGTERM) after printing what() on one line.
struct Interrupted : std::runtime_error {
  Interrupted(int signal, const std::string& what) : std::runtime_error(what), signal(signal) {}
  int signal;
};

// Installs the handlers for SIGINT and SIGTERM (the program calls it once, at start).
void install_interrupt_handlers();

// The signal received since the handlers were installed, or 0.
int pending_interrupt();

// "SIGINT" / "SIGTERM".
std::string signal_name(int signal);

// Throws Interrupted ("interrupted by SIGINT" + detail) when a signal has arrived.
void stop_if_interrupted(const std::string& detail = "");

// Test seam: behave as if `signal` had arrived (0 clears it).
void set_pending_interrupt(int signal);

}  // namespace zg
