/* l7collect: HTTP exchanges from the wire (and the processes behind them) as structured events.
 * The program in one line: parse the command line, then run. */
#include "cli.h"
#include "collector.h"

int main(int argc, char **argv)
{
	struct config cfg;
	int rc = cli_parse(argc, argv, &cfg);

	return rc >= 0 ? rc : run(&cfg);
}
