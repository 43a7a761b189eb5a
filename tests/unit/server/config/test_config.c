#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

START_TEST(test_config_flags_win_over_env_which_wins_over_file)
{
	char path[] = "/tmp/gpx-config-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *text = "# comment\nlisten = 127.0.0.1:1111\nworkers: 3\nqueue-depth = 7\n"
			   "log_format = \"json\"\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	gpx_config c;
	gpx_config_defaults(&c);
	char err[256];
	char *argv[] = {"gpixd", "--config", path, "--workers", "5", NULL};
	char *envp[] = {"GPIX_QUEUE_DEPTH=9", "GPIX_WORKERS=4", "HOME=/root", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 5, argv, envp, err, sizeof(err)), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:1111"); /* file */
	ck_assert_int_eq(c.queue_depth, 9);	      /* env over file */
	ck_assert_int_eq(c.workers, 5);		      /* flag over env */
	ck_assert_int_eq(c.log_format, GPX_LOG_JSON);
	unlink(path);
}
END_TEST

START_TEST(test_config_rejects_bad_values_with_a_message)
{
	gpx_config c;
	char err[256];
	gpx_config_defaults(&c);
	char *a1[] = {"gpixd", "--workers", "zero", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 3, a1, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--workers"));
	gpx_config_defaults(&c);
	char *a2[] = {"gpixd", "--nope", "1", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 3, a2, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown flag"));
	gpx_config_defaults(&c);
	char *a3[] = {"gpixd", "--listen=localhost", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 2, a3, NULL, err, sizeof(err)), -1);
	gpx_config_defaults(&c);
	char *a4[] = {"gpixd", "--log-level", "loud", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 3, a4, NULL, err, sizeof(err)), -1);
	gpx_config_defaults(&c);
	char *a5[] = {"gpixd", "--io-threads", NULL};
	ck_assert_int_eq(gpx_config_load(&c, 2, a5, NULL, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_config_splits_listen_addresses)
{
	char host[64];
	int port;
	ck_assert_int_eq(gpx_config_split_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 8080);
	ck_assert_int_eq(gpx_config_split_listen("[::1]:9", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(gpx_config_split_listen("x:99999", host, sizeof(host), &port), -1);
	ck_assert_int_eq(gpx_config_split_listen(":80", host, sizeof(host), &port), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_config_flags_win_over_env_which_wins_over_file);
	tcase_add_test(tc, test_config_rejects_bad_values_with_a_message);
	tcase_add_test(tc, test_config_splits_listen_addresses);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
