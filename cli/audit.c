/*
 * cli/audit.c — `custodian audit verify|checkpoint`: the hash chain checked
 * against every signed checkpoint, and a checkpoint signed now.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "audit/audit.h"
#include "audit/checkpoint.h"

/* Bad checkpoint findings in files printed before "... and N more". */
#define VERIFY_FINDINGS_SHOWN 10
/* Room for a checkpoint's error: a path and what is wrong with it. */
#define CHECKPOINT_ERR_MAX (CU_CLI_ERR_MAX + 88)
/* The time in a checkpoint line: after " time=", CHECKPOINT_TIME_LEN characters. */
#define CHECKPOINT_TIME_KEY " time="
#define CHECKPOINT_TIME_LEN 27

enum { OPT_CHECKPOINT = 'c', OPT_OUT = 'o' };

/*
 * Files' findings are printed as they come; the database's are summed up
 * as the one that covers most (the longest missing range) and a count, as
 * it holds one checkpoint every few seconds of writing.
 */
struct verify_out {
	unsigned shown, more;
	uint64_t store_bad;
	cu_audit_checkpoint_finding store_worst;
};

static void on_checkpoint_finding(void *ud, const cu_audit_checkpoint_finding *f)
{
	struct verify_out *o = ud;

	if (f->status == CU_AUDIT_CHECKPOINT_GOOD)
		return;
	if (!strcmp(f->source, "store")) {
		if (o->store_bad++ == 0 || f->cp.seq > o->store_worst.cp.seq)
			o->store_worst = *f;
		return;
	}
	if (o->shown >= VERIFY_FINDINGS_SHOWN) {
		o->more++;
		return;
	}
	o->shown++;
	cu_cli_progress_clear();
	if (f->line)
		cu_cli_error("audit checkpoint in '%s' line %u: %s", f->source, f->line, f->what);
	else
		cu_cli_error("audit checkpoint file '%s': %s", f->source, f->what);
}

static const struct cu_cli_option verify_options[] = {
    {"checkpoint", "FILE", OPT_CHECKPOINT, "also check against a checkpoint kept elsewhere"},
    {0},
};

static int verify(const struct cu_cli_command *cmd, int argc, char **argv)
{
	cu_audit_verify_request req;
	struct verify_out out = {0};
	char own[CU_CLI_PATH_MAX];
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	memset(&req, 0, sizeof(req));
	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_CHECKPOINT)
			return cu_cli_bad_argument(cmd, a.value);
		req.given_file = a.value;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* Looking writes nothing, not even a checkpoint. */
	ctx->audit_checkpoint_at_close = false;
	cu_ctx_audit_checkpoint_path(ctx, own, sizeof(own));
	req.vault = ctx->vault;
	req.own_file = own;
	req.on_finding = on_checkpoint_finding;
	req.ud = &out;
	req.progress = cu_cli_progress;
	req.progress_ud = (void *)"verifying";
	rc = cu_audit_verify_checkpoints(ctx->store, &req);
	cu_cli_progress_clear();
	cu_ctx_close(ctx);
	if (rc && rc != CU_ERR_AUDIT_BROKEN) {
		cu_cli_error("audit verify failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (req.chain.broken_seq)
		cu_cli_error(
		    "audit chain broken at entry %llu: %s (%llu entries verified before it)",
		    (unsigned long long)req.chain.broken_seq, req.chain.what,
		    (unsigned long long)req.chain.checked);
	if (out.more)
		cu_cli_error("... and %u more bad checkpoints in files", out.more);
	if (out.store_bad == 1)
		cu_cli_error("audit checkpoint in the database: %s", out.store_worst.what);
	else if (out.store_bad > 1)
		cu_cli_error("audit checkpoints in the database: %llu bad, the furthest: %s",
		             (unsigned long long)out.store_bad, out.store_worst.what);
	if (rc)
		return CU_CLI_EXIT_NO;
	if (req.chain.chains > 1)
		printf("audit intact: %llu entries checked in %llu chains\n",
		       (unsigned long long)req.chain.checked, (unsigned long long)req.chain.chains);
	else
		printf("audit intact: %llu entries checked\n",
		       (unsigned long long)req.chain.checked);
	if (req.covered_seq) {
		cu_audit_checkpoint cp = {.time_us = req.covered_time_us};
		char line[CU_AUDIT_CHECKPOINT_LINE_MAX], *t;

		/* The time as the line format writes it. */
		cu_audit_checkpoint_format(&cp, line);
		t = strstr(line, CHECKPOINT_TIME_KEY);
		printf("checkpoints: %llu checked, all good; the newest covers entry %llu "
		       "(signed %.*s)\n",
		       (unsigned long long)req.checkpoints, (unsigned long long)req.covered_seq,
		       CHECKPOINT_TIME_LEN, t ? t + strlen(CHECKPOINT_TIME_KEY) : "?");
	} else {
		printf("checkpoints: %llu checked, all good\n",
		       (unsigned long long)req.checkpoints);
	}
	return 0;
}

static const struct cu_cli_option checkpoint_options[] = {
    {"out", "FILE", OPT_OUT, "write the checkpoint line to FILE instead of printing it"},
    {0},
};

static int checkpoint(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char own[CU_CLI_PATH_MAX], err[CHECKPOINT_ERR_MAX] = "", line[CU_AUDIT_CHECKPOINT_LINE_MAX];
	const char *outfile = NULL;
	cu_audit_checkpoint cp;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_OUT)
			return cu_cli_bad_argument(cmd, a.value);
		outfile = a.value;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	ctx->audit_checkpoint_at_close = false; /* this command signs its own */
	cu_ctx_audit_checkpoint_path(ctx, own, sizeof(own));
	rc = cu_audit_checkpoint_save(ctx->store, ctx->vault, ctx->audit, own, true, &cp, NULL, err,
	                              sizeof(err));
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (outfile) {
		rc = cu_audit_checkpoint_write_file(outfile, &cp);
		if (rc) {
			cu_cli_error("cannot write '%s': %s", outfile, strerror(errno));
			return CU_CLI_EXIT_NO;
		}
		printf("checkpoint of entry %llu written to '%s'\n", (unsigned long long)cp.seq,
		       outfile);
		return 0;
	}
	cu_audit_checkpoint_format(&cp, line);
	printf("%s\n", line);
	return 0;
}

static const struct cu_cli_command audit_commands[] = {
    {.name = "verify",
     .run = verify,
     .usage = "custodian audit verify [--checkpoint FILE]",
     .help = "Walks the hash chain and checks it against every signed checkpoint: the file\n"
             "audit.checkpoint next to the database, those in the database, and FILE (one\n"
             "you kept elsewhere).  Exit 0 with the number of entries when all hold; exit 1\n"
             "naming the first broken entry, the missing range of a cut log, or a forged\n"
             "checkpoint otherwise.",
     .options = verify_options},
    {.name = "checkpoint",
     .run = checkpoint,
     .usage = "custodian audit checkpoint [--out FILE]",
     .help = "Signs the audit head now (Ed25519, from the master key), keeps it in the\n"
             "database and in audit.checkpoint, and prints it (or writes it to FILE) to be\n"
             "kept elsewhere: a log cut later is then named by 'audit verify --checkpoint'.",
     .options = checkpoint_options},
    {0},
};

const struct cu_cli_command cu_cli_audit = {
    .name = "audit",
    .usage = "custodian [--data DIR] audit verify|checkpoint",
    .help = "Checks the audit chain against its signed checkpoints; signs one.",
    .sub = audit_commands,
};
