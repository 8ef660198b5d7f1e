/* Starting programs with an environment imapsh chose.  See child.h. */
#include "cli/child.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imapsh/buf.h"

extern char **environ;

/* Variables that can carry a secret: read once, then gone from imapsh's
 * environment, and never passed to a child. */
static const char *const secret_vars[] = {"IMAPSH_PASSWORD"};
#define N_SECRET_VARS (sizeof(secret_vars) / sizeof(secret_vars[0]))

static char *secret_vals[N_SECRET_VARS];

static int is_secret_var(const char *entry)
{
	size_t i, n = strcspn(entry, "=");

	for (i = 0; i < N_SECRET_VARS; i++)
		if (strlen(secret_vars[i]) == n && strncmp(entry, secret_vars[i], n) == 0)
			return 1;
	return 0;
}

int child_secrets_take(void)
{
	size_t i;
	int r = 0;

	for (i = 0; i < N_SECRET_VARS; i++) {
		const char *v = getenv(secret_vars[i]);

		if (v != NULL && v[0] != '\0' && secret_vals[i] == NULL) {
			secret_vals[i] = strdup(v);
			if (secret_vals[i] == NULL)
				r = -1;
		}
		if (v != NULL)
			ims_wipe((char *)v,
			         strlen(v)); /* the copy in the process's own env block */
		unsetenv(secret_vars[i]);
	}
	return r;
}

const char *child_env_password(void)
{
	return secret_vals[0];
}

void child_secrets_wipe(void)
{
	size_t i;

	for (i = 0; i < N_SECRET_VARS; i++) {
		if (secret_vals[i] != NULL) {
			ims_wipe(secret_vals[i], strlen(secret_vals[i]));
			free(secret_vals[i]);
			secret_vals[i] = NULL;
		}
	}
}

static int same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* environ minus the secret variables, with extra's entries put in. */
static char **child_env(const char *const *extra)
{
	size_t n = 0, k = 0, i, j;
	char **env;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		int replaced = 0;

		if (strchr(environ[i], '=') == NULL || is_secret_var(environ[i]))
			continue;
		for (j = 0; extra != NULL && extra[j] != NULL; j++)
			if (same_name(extra[j], environ[i]))
				replaced = 1;
		if (!replaced)
			env[k++] = environ[i];
	}
	for (j = 0; extra != NULL && extra[j] != NULL; j++)
		if (!is_secret_var(extra[j]))
			env[k++] = (char *)extra[j];
	env[k] = NULL;
	return env;
}

ims_err child_start(const char *what, const char *cmd, const char *const *extra_env, int in_fd,
                    int out_fd, pid_t *pid_r, struct ims_error *err)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	char **env = child_env(extra_env);
	pid_t pid;

	if (env == NULL)
		return ims_error_nomem(err);
	pid = fork();
	if (pid < 0) {
		free(env);
		return ims_error_set(err, IMS_ERR_IO, "%s: fork: %s", what, strerror(errno));
	}
	if (pid == 0) {
		/* imapsh ignores SIGPIPE; the child gets the default back */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if ((in_fd >= 0 && in_fd != STDIN_FILENO && dup2(in_fd, STDIN_FILENO) < 0) ||
		    (out_fd >= 0 && out_fd != STDOUT_FILENO && dup2(out_fd, STDOUT_FILENO) < 0))
			_exit(127);
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	free(env);
	*pid_r = pid;
	return IMS_OK;
}

int child_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}
