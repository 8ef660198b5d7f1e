/* --compress auto's decision (zauto.h). */
#include <stdio.h>

#include "imapsh/zauto.h"

enum ims_zauto ims_zauto_decide(uint64_t bytes, int64_t ms, uint64_t left, uint64_t deflate_bps,
                                char *why, size_t n)
{
	double rate, bar, left_ms;

	if (deflate_bps == 0)
		deflate_bps = IMS_ZAUTO_DEFLATE_BPS;
	bar = (double)deflate_bps / IMS_ZAUTO_MARGIN;
	if (bytes < IMS_ZAUTO_MIN_BYTES || ms < IMS_ZAUTO_MIN_MS) {
		if (left > 0) {
			if (n > 0)
				snprintf(why, n, "%llu bytes in %lld ms measured, too few to tell",
				         (unsigned long long)bytes, (long long)ms);
			return IMS_ZAUTO_MEASURE;
		}
		if (n > 0)
			snprintf(why, n, "%.1f MB in all, too little to pay: deflate off",
			         (double)bytes / 1e6);
		return IMS_ZAUTO_OFF;
	}
	rate = (double)bytes * 1000.0 / (double)ms;
	if (rate >= bar) {
		if (n > 0)
			snprintf(why, n,
			         "%.1f MB/s measured over %.1f MB, not below %.1f MB/s "
			         "(deflate's %.0f MB/s / %u): deflate off",
			         rate / 1e6, (double)bytes / 1e6, bar / 1e6,
			         (double)deflate_bps / 1e6, IMS_ZAUTO_MARGIN);
		return IMS_ZAUTO_OFF;
	}
	left_ms = (double)left * 1000.0 / rate;
	if (left_ms < IMS_ZAUTO_MIN_LEFT_MS) {
		if (n > 0)
			snprintf(why, n,
			         "%.1f MB/s measured over %.1f MB, but the %.1f MB left take "
			         "%.0f ms, too little to pay: deflate off",
			         rate / 1e6, (double)bytes / 1e6, (double)left / 1e6, left_ms);
		return IMS_ZAUTO_OFF;
	}
	if (n > 0)
		snprintf(why, n,
		         "%.1f MB/s measured over %.1f MB, below %.1f MB/s, %.1f MB left: "
		         "deflate on",
		         rate / 1e6, (double)bytes / 1e6, bar / 1e6, (double)left / 1e6);
	return IMS_ZAUTO_ON;
}
