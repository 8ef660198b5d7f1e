/* Decimal numbers from the user, range-checked: the one parser every
 * option and operand that is a number goes through.  Pure.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_NUMBER_H
#define IMAPSH_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* s[0..len) as a decimal number from min to max: ASCII digits only (no
 * sign, no blank, no "0x", at least one digit), never wrapped or clamped
 * however long.  0 and *v_r set, or -1 and *v_r untouched. */
int ims_number_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *v_r);

#endif
