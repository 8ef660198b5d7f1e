#include <stdio.h>
int main(void)
{
	puts("imapsh " IMAPSH_VERSION);
	return 0;
}
