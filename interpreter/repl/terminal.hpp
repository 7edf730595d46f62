// Internal to the REPL: the signal flags shared by the terminal reader and the pager.
#pragma once

namespace persona::repl::term {

// True once after each SIGINT caught by catch_interrupts() (the flag is cleared by taking it).
bool take_interrupt();
// Forgets a SIGINT that came before (a new prompt is not cancelled by an old Ctrl-C).
void clear_interrupt();
// True once after each change of the window size.
bool take_resize();

}  // namespace persona::repl::term
