/* A program gets one argument, its app name (the image's stem here), as a native program
 * gets its own name in argv[0]; argv[argc] is NULL. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("argc=%d argv[0]=%s argv[1]=%s\n", argc, argv[0], argv[1] ? "?" : "NULL");
    return argc;
}
