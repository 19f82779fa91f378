from bascule.channels.cli import main

main()
