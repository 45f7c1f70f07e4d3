/* What live capture needs from the machine, checked before trying so that each missing piece
 * gets one line saying what to do (and exit status 2) instead of a libbpf error. */
#ifndef L7_ENVIRONMENT_H
#define L7_ENVIRONMENT_H

/* 0, or EXIT_USAGE after logging what is missing. */
int env_check_live(void);

/* Where tracefs is mounted (the syscall probes need it), or NULL. */
const char *env_tracefs(void);

/* After the kernel refused to load or attach BPF: explains err (a negative errno) in one line. */
void env_explain_bpf_failure(const char *what, int err);

#endif
