// dmn-js's modeler built for production (dmn-js's own dist bundle carries Inferno's development
// build, which warns in the console), exposed as window.DmnJS like that bundle.
import DmnModeler from 'dmn-js/lib/Modeler';

window.DmnJS = DmnModeler;
