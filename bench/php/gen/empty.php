<?php echo "0 0\n";
