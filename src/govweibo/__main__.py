from govweibo.cli import main

main()
