/* xl's commands: one table with each command's usage and option help. */
#include <string.h>

#include "xl.h"

static const struct xl_cmd_spec cmd_table[] = {
    { "create", main_create, 1, "Create a domain from a config file",
      "[options] <ConfigFile> [Variable=value ...]",
      "-h                 Show this help.\n"
      "-p                 Leave the new domain paused.\n"
      "-q, --quiet        Print nothing when all goes well.\n"
      "-f FILE, --defconfig=FILE\n"
      "                   Read the config from FILE (then no <ConfigFile> argument).\n"
      "-n, --dryrun       Parse the config and print it as JSON; create nothing\n"
      "                   (the same as the global -N).\n"
      "-d                 More messages (as the global -v).\n"
      "-e                 Do not wait in the background for the domain's death\n"
      "                   (always so here: this xl never daemonizes).\n"
      "-F                 Refused: this xl has no domain monitor.\n"
      "-c                 Refused: no guest consoles.\n"
      "-V, --vncviewer    Refused: no VNC displays.\n"
      "-A, --vncviewer-autopass\n"
      "                   Refused: no VNC displays." },
    { "list", main_list, 0, "List all domains, or one",
      "[options] [Domain]",
      "-h                 Show this help.\n"
      "-l, --long         A JSON array: each domain's id, config and simulated status.\n"
      "-v, --verbose      Add the UUID, the shutdown reason code and the security label.\n"
      "-Z, --context      Add the security label (always \"-\": no XSM here).\n"
      "-c, --cpupool      Refused: no CPU pools.\n"
      "-n, --numa         Refused: no NUMA node affinity." },
    { "destroy", main_destroy, 0, "Terminate a domain immediately",
      "[options] <Domain>",
      "-h                 Show this help.\n"
      "-f                 Allow destroying domain 0." },
    { "pause", main_pause, 0, "Pause a domain's execution", "<Domain>",
      "-h                 Show this help." },
    { "unpause", main_unpause, 0, "Let a paused domain run again", "<Domain>",
      "-h                 Show this help." },
    { "save", main_save, 0, "Save a domain's state to a file, to restore later",
      "[options] <Domain> <CheckpointFile>",
      "-h                 Show this help.\n"
      "-c                 Leave the domain running after the save.\n"
      "-p                 Leave the domain paused after the save.\n"
      "-D                 Refused: the saved config carries no domain id here.\n"
      "Without -c or -p the domain is destroyed once saved.  A <ConfigFile> after\n"
      "<CheckpointFile> is refused: the domain's own config is saved." },
    { "restore", main_restore, 0, "Create a domain from a saved state",
      "[options] <CheckpointFile>",
      "-h                 Show this help.\n"
      "-p                 Leave the restored domain paused.\n"
      "-d                 More messages (as the global -v).\n"
      "-e                 Do not wait in the background for the domain's death\n"
      "                   (always so here).\n"
      "-F                 Refused: this xl has no domain monitor.\n"
      "-c                 Refused: no guest consoles.\n"
      "-V, --vncviewer    Refused: no VNC displays.\n"
      "-A, --vncviewer-autopass\n"
      "                   Refused: no VNC displays.\n"
      "A <ConfigFile> before <CheckpointFile> is refused: the saved config is used." },
    { "migrate", main_migrate, 0, "Move a domain to another host",
      "[options] <Domain> <host>",
      "-h                 Show this help.\n"
      "-s <sshcommand>    Transport instead of ssh (run by sh).  Empty: run <host> as\n"
      "                   the whole command instead of \"ssh <host> " XL_REMOTE_COMMAND
      " migrate-receive\".\n"
      "-e, -F             Ask the receiver not to wait in the background (-e).\n"
      "-p                 Leave the domain paused on <host>.\n"
      "--debug            Send the stream in debug mode (the receiver gets -d).\n"
      "--live             Accepted: migration is always live.\n"
      "-C <config>        Refused: the domain's own config is sent.\n"
      "-D                 Refused: the config sent carries no domain id here." },
    { "migrate-receive", main_migrate_receive, 0,
      "Receive a domain from xl migrate or xl remus (run by them)",
      "[options]",
      "-h                 Show this help.\n"
      "-e                 Do not wait in the background (always so here).\n"
      "-d                 More messages.\n"
      "-p                 Leave the domain paused once received.\n"
      "-r                 A Remus stream: returns at failover.\n"
      "--colo             A COLO stream (stdout carries the back channel).\n"
      "--userspace-colo-proxy\n"
      "                   Accepted: the only COLO proxy here is colo-proxy.\n"
      "--coloft-script <script>\n"
      "                   Accepted with a warning: no scripts are run here.\n"
      "--fence-script <script>\n"
      "                   At failover, run <script> <name> <domid> and take over only\n"
      "                   if it exits 0 (it made sure the primary is dead).  Without\n"
      "                   it, a secondary whose primary is on another host is held\n"
      "                   until `xl failover`.\n"
      "-F                 Refused: this xl has no domain monitor." },
    { "remus", main_remus, 0, "Protect a domain with Remus or COLO",
      "[options] <Domain> [<host>]",
      "-h                 Show this help.\n"
      "-i <ms>            Checkpoint interval (default 200).  Also allowed with -c.\n"
      "-c, --colo         COLO instead of Remus.\n"
      "-p                 Userspace COLO proxy (needs -c; the only kind here).\n"
      "-s <sshcommand>    Transport instead of ssh.  Empty: run <host> as the command.\n"
      "-e                 Ask the receiver not to wait in the background.\n"
      "-F                 Allow the unsafe options -b, -n and -d.\n"
      "-b                 Replicate to /dev/null (no <host>).\n"
      "-n                 No network output buffering.\n"
      "-d                 No disk replication.\n"
      "-u                 No memory checkpoint compression (XOR with the pages last\n"
      "                   sent, run-length encoded; on by default, also with -c).\n"
      "-N <script>        Refused: no netbuf or proxy scripts are run here.\n"
      "--fence-script <script>\n"
      "                   Passed to the receiver (a path on <host>): the secondary runs\n"
      "                   it at failover and takes over only if it exits 0." },
    { "failover", main_failover, 0,
      "Take over with a secondary held at failover, or give it up",
      "[options] <Domain>",
      "-h                 Show this help.\n"
      "-r, --release      Give the held copy up (destroy it) instead." },
    { "debug-digest", main_debug_digest, 0,
      "Print digests of a domain's memory and vcpu context", "<Domain>",
      "-h                 Show this help." },
    { "help", main_help, 0, "Show the commands, or one command's usage and options",
      "[<subcommand>]", NULL },
};

#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

/* An exact name, or an unambiguous prefix of one (as upstream). */
const struct xl_cmd_spec *xl_cmd_lookup(const char *name)
{
    const struct xl_cmd_spec *found = NULL;
    size_t len = strlen(name);
    int matches = 0;

    for (size_t i = 0; i < NCMDS && len; i++) {
        if (!strcmp(cmd_table[i].name, name))
            return &cmd_table[i];
        if (!strncmp(cmd_table[i].name, name, len)) {
            found = &cmd_table[i];
            matches++;
        }
    }
    return matches == 1 ? found : NULL;
}

static const char global_usage[] = "[-v] [-f] [-N] [-t] [-T]";

void xl_help(FILE *f, const char *cmd)
{
    const struct xl_cmd_spec *c = cmd ? xl_cmd_lookup(cmd) : NULL;

    if (cmd && !c) {
        fprintf(f, "xl: no command called \"%s\"; 'xl help' lists them\n", cmd);
        return;
    }
    if (c) {
        fprintf(f, "Usage: xl %s %s %s\n\n%s.\n", c->can_dryrun ? "[-N]" : "", c->name,
                c->usage, c->summary);
        if (c->options)
            fprintf(f, "\nOptions:\n%s\n", c->options);
        return;
    }
    fprintf(f, "Usage: xl %s <subcommand> [args]\n\nGlobal options:\n", global_usage);
    fprintf(f, "  -v   more messages (repeat for debug messages)\n"
               "  -f   force (accepted; nothing here needs forcing)\n"
               "  -N   dry run, for the commands that have one (create)\n"
               "  -t   progress lines overwrite each other (carriage return)\n"
               "       instead of scrolling; also so when stderr is a terminal\n"
               "  -T   timestamps and xl's pid on every message\n"
               "\nSubcommands:\n\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, " %-19s %s\n", cmd_table[i].name, cmd_table[i].summary);
    fprintf(f, "\n'xl help <subcommand>' or 'xl <subcommand> -h' shows its options; "
               "xl(1) (docs/man/xl.1.pod) has the details.\n");
}

int main_help(int argc, char **argv)
{
    xl_help(stdout, argc > 1 ? argv[1] : NULL);
    return XL_EXIT_OK;
}

int xl_getopt(int argc, char **argv, const char *opts, const struct option *lopts,
              const char *cmd, int nreq, int *exit_rc)
{
    static const struct option help_only[] = { { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    struct option all[32];
    char shortopts[64];
    size_t n = 0;
    int opt;

    /* "h" and --help come with every command. */
    for (; lopts && lopts[n].name && n < 30; n++)
        all[n] = lopts[n];
    all[n++] = help_only[0];
    all[n] = help_only[1];
    snprintf(shortopts, sizeof(shortopts), "h%s", opts);
    opterr = 0;
    opt = getopt_long(argc, argv, shortopts, all, NULL);
    if (opt == 'h') {
        xl_help(stdout, cmd);
        *exit_rc = XL_EXIT_OK;
        return XL_GETOPT_EXIT;
    }
    if (opt == '?' || opt == ':') {
        if (optopt)
            fprintf(stderr, "xl %s: option -%c %s\n", cmd, optopt,
                    opt == ':' || (strchr(opts, optopt) && strchr(opts, optopt)[1] == ':')
                        ? "needs a value" : "not supported");
        else
            fprintf(stderr, "xl %s: option %s not supported\n", cmd, argv[optind - 1]);
        fprintf(stderr, "'xl help %s' lists the options.\n", cmd);
        *exit_rc = XL_EXIT_USAGE;
        return XL_GETOPT_EXIT;
    }
    if (opt != -1)
        return opt;
    if (argc - optind < nreq) {
        fprintf(stderr, "'xl %s' needs at least %d argument%s.\n\n", cmd, nreq,
                nreq > 1 ? "s" : "");
        xl_help(stderr, cmd);
        *exit_rc = XL_EXIT_USAGE;
        return XL_GETOPT_EXIT;
    }
    return -1;
}

int xl_refuse_option(const char *cmd, const char *opt, const char *why)
{
    fprintf(stderr, "xl %s: option %s is not supported here: %s\n", cmd, opt, why);
    return XL_EXIT_USAGE;
}
